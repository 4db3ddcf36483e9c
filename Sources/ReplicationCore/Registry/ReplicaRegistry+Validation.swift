import Foundation
import JSONValues
import MapDepotCore

/// replica-server validates every request against its OpenAPI document (express-openapi-validator, ajv) and answers
/// 400 with the validator's message (replication-anchors §1.1). The registry's requests are checked here in the
/// same words, so a producer written against replica-server reads the errors it expects (issue #12).
///
/// Bodies allow members the schema does not name (replica-server's schemas leave `additionalProperties` open); the
/// read-only `urls` is refused, as its validator refuses it.
enum RegistryValidation {
    static func body(_ json: JSONValue) throws(ServiceError) -> [String: JSONValue] {
        guard let object = json.objectValue else { throw .invalid("request/body must be object") }
        if object["urls"] != nil { throw .invalid("request/body/urls is read-only") }
        return object
    }

    static func uuid(_ value: JSONValue, at path: String) throws(ServiceError) -> UUID {
        guard case .string(let text) = value else { throw .invalid("\(path) must be string") }
        guard let id = UUID(formatted: text) else { throw .invalid(#"\#(path) must match format "uuid""#) }
        return id
    }

    static func dateTime(_ value: JSONValue, at path: String) throws(ServiceError) -> Date {
        guard case .string(let text) = value else { throw .invalid("\(path) must be string") }
        return try dateTime(text, at: path)
    }

    static func dateTime(_ text: String, at path: String) throws(ServiceError) -> Date {
        guard let date = Timestamp.rfc3339(text) else { throw .invalid(#"\#(path) must match format "date-time""#) }
        return date
    }

    /// `layerId`: `number`, `format: int32`.
    static func layerId(_ value: JSONValue, at path: String) throws(ServiceError) -> Int {
        guard case .number(let number) = value else { throw .invalid("\(path) must be number") }
        return try layerId(number, at: path)
    }

    static func layerId(_ number: Double, at path: String) throws(ServiceError) -> Int {
        guard number.rounded() == number, number >= Double(Int32.min), number <= Double(Int32.max) else {
            throw .invalid(#"\#(path) must match format "int32""#)
        }
        return Int(number)
    }

    static func oneOf<T: RawRepresentable & CaseIterable>(_ value: JSONValue, _ type: T.Type, at path: String) throws(ServiceError) -> T
    where T.RawValue == String {
        guard case .string(let text) = value else { throw .invalid("\(path) must be string") }
        return try oneOf(text, type, at: path)
    }

    static func oneOf<T: RawRepresentable & CaseIterable>(_ text: String, _ type: T.Type, at path: String) throws(ServiceError) -> T
    where T.RawValue == String {
        guard let parsed = T(rawValue: text) else {
            throw .invalid("\(path) must be equal to one of the allowed values: \(T.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        return parsed
    }

    /// `bucketName`: a string of 3 to 63 characters.
    static func bucketName(_ value: JSONValue, at path: String) throws(ServiceError) -> String {
        guard case .string(let text) = value else { throw .invalid("\(path) must be string") }
        if text.count < 3 { throw .invalid("\(path) must NOT have fewer than 3 characters") }
        if text.count > 63 { throw .invalid("\(path) must NOT have more than 63 characters") }
        return text
    }

    static func bool(_ value: JSONValue, at path: String) throws(ServiceError) -> Bool {
        guard case .bool(let flag) = value else { throw .invalid("\(path) must be boolean") }
        return flag
    }
}
