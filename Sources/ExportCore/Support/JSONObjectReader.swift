import GeoJSON

/// Walks a JSON object member by member, refusing unknown members, so that every validation error names the
/// member at fault. Used for request bodies whose contracts say `additionalProperties: false`.
struct JSONObjectReader {
    let object: [String: JSONValue]
    let path: String

    init(_ json: JSONValue, path: String, allowed: Set<String>) throws(ExportError) {
        guard let object = json.objectValue else {
            throw .invalid("\(path.isEmpty ? "the body" : path) must be a JSON object, found \(json.typeName)")
        }
        if let unknown = object.keys.sorted().first(where: { !allowed.contains($0) }) {
            throw .invalid("\(Self.name(unknown, in: path)) is not an allowed field (allowed: \(allowed.sorted().joined(separator: ", ")))")
        }
        self.object = object
        self.path = path
    }

    func name(_ key: String) -> String { JSONObjectReader.name(key, in: path) }

    static func name(_ key: String, in path: String) -> String { path.isEmpty ? key : "\(path).\(key)" }

    func required(_ key: String) throws(ExportError) -> JSONValue {
        guard let value = object[key], value != .null else { throw .invalid("\(name(key)) is required") }
        return value
    }

    func string(_ key: String) throws(ExportError) -> String? {
        switch object[key] {
        case nil, .null?: return nil
        case .string(let value)?: return value
        case let value?: throw .invalid("\(name(key)) must be a string, found \(value.typeName)")
        }
    }

    func requiredString(_ key: String) throws(ExportError) -> String {
        guard let value = try string(key) else { throw .invalid("\(name(key)) is required") }
        return value
    }

    func number(_ key: String) throws(ExportError) -> Double? {
        switch object[key] {
        case nil, .null?: return nil
        case .number(let value)?: return value
        case let value?: throw .invalid("\(name(key)) must be a number, found \(value.typeName)")
        }
    }

    func bool(_ key: String) throws(ExportError) -> Bool? {
        switch object[key] {
        case nil, .null?: return nil
        case .bool(let value)?: return value
        case let value?: throw .invalid("\(name(key)) must be a boolean, found \(value.typeName)")
        }
    }

    func objectValue(_ key: String) throws(ExportError) -> [String: JSONValue]? {
        switch object[key] {
        case nil, .null?: return nil
        case .object(let value)?: return value
        case let value?: throw .invalid("\(name(key)) must be an object, found \(value.typeName)")
        }
    }

    func array(_ key: String) throws(ExportError) -> [JSONValue]? {
        switch object[key] {
        case nil, .null?: return nil
        case .array(let value)?: return value
        case let value?: throw .invalid("\(name(key)) must be an array, found \(value.typeName)")
        }
    }

    func oneOf<T: RawRepresentable>(_ key: String, _ type: T.Type) throws(ExportError) -> T?
    where T.RawValue == String, T: CaseIterable {
        guard let raw = try string(key) else { return nil }
        guard let value = T(rawValue: raw) else {
            throw .invalid("\(name(key)) must be one of \(T.allCases.map { "\"\($0.rawValue)\"" }.joined(separator: ", ")), found \"\(raw)\"")
        }
        return value
    }
}

extension ExportError {
    /// A GeoJSON fault inside a request member (a ``GeoJSONError`` names the member).
    init(geoJSON error: any Error) {
        self.init(.invalid, "\(error)")
    }
}
