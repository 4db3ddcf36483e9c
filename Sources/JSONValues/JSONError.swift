/// A JSON (or GeoJSON) document that does not follow the rules, with the member that breaks them.
///
/// `path` uses the request's own member names (`ROI.features[0].geometry.coordinates[1][3]`) so that a
/// client can find the fault without guessing.
public struct JSONError: Error, Sendable, Equatable, CustomStringConvertible {
    public var path: String
    public var reason: String

    public init(path: String, reason: String) {
        self.path = path
        self.reason = reason
    }

    public var description: String {
        path.isEmpty ? reason : "\(path): \(reason)"
    }
}
