import JSONValues

/// Walks a JSON object member by member, refusing unknown members, so that every validation error names the
/// member at fault. Used for request bodies whose contracts say `additionalProperties: false`.
public struct JSONObjectReader {
    public let object: [String: JSONValue]
    public let path: String

    public init(_ json: JSONValue, path: String, allowed: Set<String>) throws(ServiceError) {
        guard let object = json.objectValue else {
            throw .invalid("\(path.isEmpty ? "the body" : path) must be a JSON object, found \(json.typeName)")
        }
        if let unknown = object.keys.sorted().first(where: { !allowed.contains($0) }) {
            throw .invalid("\(Self.name(unknown, in: path)) is not an allowed field (allowed: \(allowed.sorted().joined(separator: ", ")))")
        }
        self.object = object
        self.path = path
    }

    public func name(_ key: String) -> String { JSONObjectReader.name(key, in: path) }

    public static func name(_ key: String, in path: String) -> String { path.isEmpty ? key : "\(path).\(key)" }

    public func required(_ key: String) throws(ServiceError) -> JSONValue {
        guard let value = object[key], value != .null else { throw .invalid("\(name(key)) is required") }
        return value
    }

    public func string(_ key: String) throws(ServiceError) -> String? {
        switch object[key] {
        case nil, .null?: return nil
        case .string(let value)?: return value
        case let value?: throw .invalid("\(name(key)) must be a string, found \(value.typeName)")
        }
    }

    public func requiredString(_ key: String) throws(ServiceError) -> String {
        guard let value = try string(key) else { throw .invalid("\(name(key)) is required") }
        return value
    }

    public func number(_ key: String) throws(ServiceError) -> Double? {
        switch object[key] {
        case nil, .null?: return nil
        case .number(let value)?: return value
        case let value?: throw .invalid("\(name(key)) must be a number, found \(value.typeName)")
        }
    }

    public func bool(_ key: String) throws(ServiceError) -> Bool? {
        switch object[key] {
        case nil, .null?: return nil
        case .bool(let value)?: return value
        case let value?: throw .invalid("\(name(key)) must be a boolean, found \(value.typeName)")
        }
    }

    public func objectValue(_ key: String) throws(ServiceError) -> [String: JSONValue]? {
        switch object[key] {
        case nil, .null?: return nil
        case .object(let value)?: return value
        case let value?: throw .invalid("\(name(key)) must be an object, found \(value.typeName)")
        }
    }

    public func array(_ key: String) throws(ServiceError) -> [JSONValue]? {
        switch object[key] {
        case nil, .null?: return nil
        case .array(let value)?: return value
        case let value?: throw .invalid("\(name(key)) must be an array, found \(value.typeName)")
        }
    }

    public func oneOf<T: RawRepresentable>(_ key: String, _ type: T.Type) throws(ServiceError) -> T?
    where T.RawValue == String, T: CaseIterable {
        guard let raw = try string(key) else { return nil }
        guard let value = T(rawValue: raw) else {
            throw .invalid("\(name(key)) must be one of \(T.allCases.map { "\"\($0.rawValue)\"" }.joined(separator: ", ")), found \"\(raw)\"")
        }
        return value
    }
}

extension ServiceError {
    /// A JSON or GeoJSON fault inside a request member (its error names the member).
    public init(geoJSON error: any Error) {
        self.init(.invalid, "\(error)")
    }
}
