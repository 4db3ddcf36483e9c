import Foundation
import JSONValues
import MapDepotCore

/// A `POST /export` body (exporter-trigger v3.2.1 `ExportFromFeatures`, export-anchors §1.2): `dbId` required,
/// `roi` (default: the record's footprint at its own resolution), `callbackURLs`, `crs` (`EPSG:4326`), `priority`
/// (0…999,999,999) and `description`. Refused in the words of exporter-trigger's OpenAPI validator (ajv), as
/// replica-server's are; members the schema does not name are ignored, as there.
///
/// It becomes the same ``ExportRequest`` as `POST /export-tasks` takes: one job store, one dedup, one lifecycle.
public struct TriggerRequest: Sendable {
    public var dbId: UUID
    public var roi: JSONValue?
    public var callbackURLs: [String]
    public var description: String?
    /// Accepted and checked; MapDepot's queue is first come, first served per customer (issue #12 note).
    public var priority: Double?

    /// exporter-trigger's resolution bounds: zoom 21 to zoom 0.
    public static let resolutionRange = 3.35276126861572e-7...0.703125

    public init(json: JSONValue) throws(ServiceError) {
        guard let body = json.objectValue else { throw .invalid("request/body must be object") }
        guard let id = body["dbId"] else { throw .invalid("request/body must have required property 'dbId'") }
        guard case .string(let text) = id else { throw .invalid("request/body/dbId must be string") }
        guard let uuid = UUID(formatted: text) else { throw .invalid(#"request/body/dbId must match format "uuid""#) }
        dbId = uuid
        if let roi = body["roi"] { try Self.checkROI(roi) }
        roi = body["roi"]
        callbackURLs = []
        if let urls = body["callbackURLs"] {
            guard case .array(let items) = urls else { throw .invalid("request/body/callbackURLs must be array") }
            callbackURLs = try items.enumerated().map { index, item throws(ServiceError) in
                guard case .string(let url) = item else { throw .invalid("request/body/callbackURLs/\(index) must be string") }
                return url
            }
        }
        if let crs = body["crs"] {
            guard case .string(let text) = crs else { throw .invalid("request/body/crs must be string") }
            guard text == "EPSG:4326" else { throw .invalid("request/body/crs must be equal to one of the allowed values: EPSG:4326") }
        }
        switch body["priority"] {
        case nil: priority = nil
        case .number(let value)?:
            guard value >= 0 else { throw .invalid("request/body/priority must be >= 0") }
            guard value <= 999_999_999 else { throw .invalid("request/body/priority must be <= 999999999") }
            priority = value
        case _?: throw .invalid("request/body/priority must be number")
        }
        switch body["description"] {
        case nil: description = nil
        case .string(let text)?: description = text
        case _?: throw .invalid("request/body/description must be string")
        }
    }

    /// What the schema says of `roi` beyond GeoJSON (which ``ExportRequest`` checks): every feature names its
    /// `maxResolutionDeg`, and both resolutions lie in ``resolutionRange``.
    static func checkROI(_ roi: JSONValue) throws(ServiceError) {
        guard case .object(let collection) = roi else { throw .invalid("request/body/roi must be object") }
        guard case .array(let features)? = collection["features"] else { throw .invalid("request/body/roi must have required property 'features'") }
        for (index, feature) in features.enumerated() {
            let path = "request/body/roi/features/\(index)/properties"
            guard case .object(let properties)? = feature.objectValue?["properties"] else {
                throw .invalid("request/body/roi/features/\(index) must have required property 'properties'")
            }
            guard properties["maxResolutionDeg"] != nil else { throw .invalid("\(path) must have required property 'maxResolutionDeg'") }
            for key in ["maxResolutionDeg", "minResolutionDeg"] {
                guard let value = properties[key] else { continue }
                guard case .number(let number) = value else { throw .invalid("\(path)/\(key) must be number") }
                if number < resolutionRange.lowerBound { throw .invalid("\(path)/\(key) must be >= \(resolutionRange.lowerBound)") }
                if number > resolutionRange.upperBound { throw .invalid("\(path)/\(key) must be <= \(resolutionRange.upperBound)") }
            }
        }
    }

    /// The export-management request it stands for. The ROI defaults to the record's footprint from its own
    /// resolution up to zoom 0 (exporter-trigger's default); callbacks are told of completion and failure in
    /// exporter-trigger's callback shape.
    public func exportRequest(footprint: JSONValue, maxResolutionDeg: Double) throws(ServiceError) -> ExportRequest {
        let defaultROI: JSONValue = .object([
            "type": .string("FeatureCollection"),
            "features": .array([
                .object([
                    "type": .string("Feature"), "geometry": footprint,
                    "properties": .object([
                        "maxResolutionDeg": .number(maxResolutionDeg), "minResolutionDeg": .number(Self.resolutionRange.upperBound),
                    ]),
                ])
            ]),
        ])
        var object: [String: JSONValue] = [
            "catalogRecordID": .string(dbId.uuidString.lowercased()), "domain": .string("RASTER"), "artifactCRS": .string("4326"),
            "ROI": roi ?? defaultROI,
            "webhooks": .array(
                callbackURLs.map { .object(["url": .string($0), "events": .array([.string("TASK_COMPLETED"), .string("TASK_FAILED")])]) }
            ),
        ]
        if let description { object["description"] = .string(description) }
        var request = try ExportRequest(json: .object(object))
        request.webhooks = request.webhooks.map { webhook in
            var callback = webhook
            callback.format = .exporterCallback
            return callback
        }
        return request
    }
}
