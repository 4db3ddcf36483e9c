/// A GeoPackage could not be written or read.
public struct GeoPackageError: Error, Sendable, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}
