import Foundation
import Geometry
import JSONValues
import MapDepotCore

/// A `POST /layers/{layerId}/deltas` body (issue #14 item 4): `{geometryType, from, to?, bbox?}`. `from` and `to` are
/// change sequences (integers) or RFC 3339 timestamps (the layer as of then); `to` defaults to the latest change. `bbox`
/// is `[minLon, minLat, maxLon, maxLat]`.
public struct WindowRequest: Sendable, Hashable {
    public enum Bound: Sendable, Hashable {
        case sequence(Int)
        case time(Date)
    }

    public var geometryType: GeometryType
    public var from: Bound
    public var to: Bound?
    public var bbox: BoundingBox?

    public init(geometryType: GeometryType, from: Bound, to: Bound? = nil, bbox: BoundingBox? = nil) {
        self.geometryType = geometryType
        self.from = from
        self.to = to
        self.bbox = bbox
    }

    public init(json: JSONValue) throws(ServiceError) {
        let reader = try JSONObjectReader(json, path: "", allowed: ["geometryType", "from", "to", "bbox"])
        guard let type = try reader.oneOf("geometryType", GeometryType.self) else { throw .invalid("geometryType is required") }
        geometryType = type
        guard let from = try Self.bound(json.objectValue?["from"], name: "from") else { throw .invalid("from is required: a change sequence or a date-time") }
        self.from = from
        to = try Self.bound(json.objectValue?["to"], name: "to")
        switch json.objectValue?["bbox"] {
        case nil, .null?:
            bbox = nil
        case .array(let values)? where values.count == 4 && values.allSatisfy({ $0.numberValue?.isFinite == true }):
            let n = values.map { $0.numberValue! }
            guard n[0] <= n[2], n[1] <= n[3], n[0] >= -180, n[2] <= 180, n[1] >= -90, n[3] <= 90 else {
                throw .invalid("bbox must be [minLon, minLat, maxLon, maxLat] with min ≤ max, inside −180…180 and −90…90")
            }
            bbox = BoundingBox(minX: n[0], minY: n[1], maxX: n[2], maxY: n[3])
        default:
            throw .invalid("bbox must be an array of 4 numbers [minLon, minLat, maxLon, maxLat]")
        }
    }

    static func bound(_ value: JSONValue?, name: String) throws(ServiceError) -> Bound? {
        switch value {
        case nil, .null?: return nil
        case .number(let number)? where number >= 0 && number.rounded() == number && number < 1e15: return .sequence(Int(number))
        case .string(let text)?:
            guard let date = Timestamp.rfc3339(text) else { throw .invalid("\(name) must be a change sequence (integer ≥ 0) or an RFC 3339 date-time") }
            return .time(date)
        default: throw .invalid("\(name) must be a change sequence (integer ≥ 0) or an RFC 3339 date-time")
        }
    }
}
