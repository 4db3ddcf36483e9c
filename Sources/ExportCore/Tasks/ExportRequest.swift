import Foundation
import Geometry
import GeoJSON
import JSONValues
import MapDepotCore

/// Webhook events of the Export contract (export-management v1.7.0 `events` plus the lifecycle events the
/// shared library defines, export-anchors §2.1).
public enum WebhookEvent: String, Sendable, Codable, CaseIterable {
    case taskStarted = "TASK_STARTED"
    case taskInProgress = "TASK_IN_PROGRESS"
    case taskCompleted = "TASK_COMPLETED"
    case taskFailed = "TASK_FAILED"
    case taskAborted = "TASK_ABORTED"
    case taskPaused = "TASK_PAUSED"
    case taskExpired = "TASK_EXPIRED"
    case taskArchived = "TASK_ARCHIVED"
    /// A layer's replica was published (issue #14: layer subscriptions); never an export task's event.
    case replicaPublished = "REPLICA_PUBLISHED"

    /// The events an export task's webhook can ask for.
    public static let taskEvents: [WebhookEvent] = allCases.filter { $0 != .replicaPublished }
}

/// What a webhook's deliveries carry.
public enum WebhookFormat: String, Sendable, Hashable {
    /// `{event, timestamp, data: <task>}` (SPEC "Webhooks").
    case task
    /// exporter-trigger's callback, `CallbackExportResponse` (export-anchors §2.3): for `callbackURLs` given to
    /// `POST /export`, whose callers read that shape.
    case exporterCallback = "exporter-callback"
}

/// A `webhooks[]` entry. `secret` is additive: with it, deliveries are signed (HMAC-SHA256).
public struct Webhook: Sendable, Hashable {
    public var url: String
    public var events: [WebhookEvent]
    public var secret: String?
    public var format: WebhookFormat

    public init(url: String, events: [WebhookEvent], secret: String? = nil, format: WebhookFormat = .task) {
        self.url = url
        self.events = events
        self.secret = secret
        self.format = format
    }

    /// The entry as the API shows it: the secret is never echoed.
    public var json: JSONValue {
        .object(["url": .string(url), "events": .array(events.map { .string($0.rawValue) })])
    }

    /// The entry as stored, secret and format included.
    public var storedJSON: JSONValue {
        var object: [String: JSONValue] = ["url": .string(url), "events": .array(events.map { .string($0.rawValue) })]
        if let secret { object["secret"] = .string(secret) }
        if format != .task { object["format"] = .string(format.rawValue) }
        return .object(object)
    }

    /// Webhooks merged as MapColonies merges them for a duplicate request (export-anchors §3.1), without its
    /// early-return bug: every new URL is added, and a known URL gets the union of events.
    /// Webhooks one request may name, and one task may gather from equivalent requests.
    public static let maxPerTask = 32

    /// Linear in both lists; a task keeps at most ``maxPerTask`` (the oldest), so that repeated requests cannot grow it
    /// without end.
    public static func merge(_ existing: [Webhook], _ added: [Webhook]) -> [Webhook] {
        var result = existing
        var positions = Dictionary(result.enumerated().map { ($1.url, $0) }, uniquingKeysWith: { first, _ in first })
        for webhook in added {
            if let index = positions[webhook.url] {
                for event in webhook.events where !result[index].events.contains(event) { result[index].events.append(event) }
                if result[index].secret == nil { result[index].secret = webhook.secret }
            } else if result.count < maxPerTask {
                positions[webhook.url] = result.count
                result.append(webhook)
            }
        }
        return result
    }
}

/// One ROI feature with the resolutions it asks for (export-anchors §1.2: per-feature `maxResolutionDeg`,
/// optional `minResolutionDeg`).
public struct ROIFeature: Sendable, Hashable {
    public var polygons: [PolygonCoordinates]
    /// Finest requested resolution (degrees per pixel); nil = the product's.
    public var maxResolutionDeg: Double?
    /// Coarsest requested resolution; nil = zoom 0.
    public var minResolutionDeg: Double?

    public init(polygons: [PolygonCoordinates], maxResolutionDeg: Double? = nil, minResolutionDeg: Double? = nil) {
        self.polygons = polygons
        self.maxResolutionDeg = maxResolutionDeg
        self.minResolutionDeg = minResolutionDeg
    }
}

/// A `POST /export-tasks` body, parsed and checked against the contract's schema
/// (CreateTaskRequest, `additionalProperties: false`, export-anchors §1.1). Checks that need the catalog
/// record (resolutions, footprint) are the planner's.
public struct ExportRequest: Sendable {
    public var catalogRecordID: UUID
    public var domain: ProductDomain
    public var roi: [ROIFeature]
    /// The ROI exactly as sent, echoed in the task.
    public var roiJSON: JSONValue
    public var artifactCRS: String
    public var description: String?
    public var keywords: JSONValue?
    public var parameters: JSONValue?
    public var webhooks: [Webhook]
    /// True when the client spoke the v1.5 dialect (`webhook`, singular): the task answers in kind.
    public var usesSingularWebhook: Bool

    public static let fields: Set<String> = [
        "catalogRecordID", "domain", "ROI", "artifactCRS", "description", "keywords", "parameters", "webhooks", "webhook",
    ]
    /// export-management's `description` column is varchar(2000).
    public static let maxDescriptionLength = 2000

    public init(json: JSONValue) throws(ServiceError) {
        let reader = try JSONObjectReader(json, path: "", allowed: Self.fields)
        let recordID = try reader.requiredString("catalogRecordID")
        guard let uuid = UUID(uuidString: recordID) else {
            throw .invalid("catalogRecordID must be a UUID, found \"\(recordID)\"")
        }
        catalogRecordID = uuid
        guard let domain = try reader.oneOf("domain", ProductDomain.self) else { throw .invalid("domain is required") }
        self.domain = domain
        let crs = try reader.required("artifactCRS")
        guard crs == .string("4326") else {
            throw .invalid("artifactCRS must be \"4326\" (EPSG:4326, the only CRS offered), found \(crs.stringValue.map { "\"\($0)\"" } ?? crs.typeName)")
        }
        artifactCRS = "4326"
        description = try reader.string("description")
        if let description, description.count > Self.maxDescriptionLength {
            throw .invalid("description is \(description.count) characters long, more than \(Self.maxDescriptionLength)")
        }
        keywords = try reader.objectValue("keywords").map(JSONValue.object)
        parameters = try reader.objectValue("parameters").map(JSONValue.object)
        // v1.5 clients send `webhook` (same shape); v1.7 `webhooks`. One of them, not both.
        let plural = reader.object["webhooks"]
        let singular = reader.object["webhook"]
        if plural != nil && singular != nil { throw .invalid("send either webhooks or webhook (the v1.5 name), not both") }
        usesSingularWebhook = singular != nil
        let member = usesSingularWebhook ? "webhook" : "webhooks"
        guard let webhooks = try reader.array(member) else { throw .invalid("webhooks is required (it may be an empty array)") }
        // Bounded (issue #9: 60,000 entries cost 48.8 s of CPU in a quadratic duplicate check).
        guard webhooks.count <= Webhook.maxPerTask else {
            throw .invalid("\(member) lists \(webhooks.count) webhooks; at most \(Webhook.maxPerTask) are allowed")
        }
        self.webhooks = try webhooks.enumerated().map { index, value throws(ServiceError) in
            try Self.webhook(value, path: "\(member)[\(index)]")
        }
        var seen = Set<String>()
        for (index, webhook) in self.webhooks.enumerated() where !seen.insert(webhook.url).inserted {
            throw .invalid("\(member)[\(index)].url \(webhook.url) is listed twice")
        }
        roiJSON = try reader.required("ROI")
        roi = try Self.roi(roiJSON)
    }

    /// Parses an ROI FeatureCollection on its own (the CLI's `--roi` file).
    public static func parseROI(_ json: JSONValue) throws(ServiceError) -> [ROIFeature] {
        try roi(json)
    }

    private static func webhook(_ json: JSONValue, path: String) throws(ServiceError) -> Webhook {
        let reader = try JSONObjectReader(json, path: path, allowed: ["url", "events", "secret"])
        let url = try reader.webhookURL("url")
        guard let events = try reader.array("events"), !events.isEmpty else {
            throw .invalid("\(path).events needs at least one event")
        }
        var parsedEvents: [WebhookEvent] = []
        for (index, event) in events.enumerated() {
            guard let raw = event.stringValue, let value = WebhookEvent(rawValue: raw), WebhookEvent.taskEvents.contains(value) else {
                throw .invalid("\(path).events[\(index)] must be one of \(WebhookEvent.taskEvents.map(\.rawValue).joined(separator: ", "))")
            }
            guard !parsedEvents.contains(value) else { throw .invalid("\(path).events lists \(raw) twice") }
            parsedEvents.append(value)
        }
        let secret = try reader.webhookSecret("secret")
        return Webhook(url: url, events: parsedEvents, secret: secret)
    }

    private static func roi(_ json: JSONValue) throws(ServiceError) -> [ROIFeature] {
        let collection: FeatureCollection
        do {
            collection = try FeatureCollection(json: json, path: "ROI")
        } catch {
            throw ServiceError(geoJSON: error)
        }
        guard !collection.features.isEmpty else { throw .invalid("ROI.features needs at least one feature") }
        return try collection.features.enumerated().map { index, feature throws(ServiceError) in
            let path = "ROI.features[\(index)]"
            guard let geometry = feature.geometry else { throw .invalid("\(path).geometry must be a Polygon or MultiPolygon, found null") }
            guard !geometry.polygons.isEmpty else {
                throw .invalid("\(path).geometry must be a Polygon or MultiPolygon, found \(geometry.typeName)")
            }
            for (p, polygon) in geometry.polygons.enumerated() {
                for (r, positions) in polygon.rings.enumerated() {
                    if let point = Ring.crossing(Ring.open(positions.map { Point($0.longitude, $0.latitude) })) {
                        let at = geometry.polygons.count > 1 ? "polygon \(p) ring \(r)" : "ring \(r)"
                        throw .invalid("\(path).geometry: \(at) crosses itself at (\(point.x), \(point.y)); a ROI ring must be simple")
                    }
                }
            }
            func resolution(_ key: String) throws(ServiceError) -> Double? {
                switch feature.properties?[key] {
                case nil, .null?: return nil
                case .number(let value)?:
                    guard value > 0, value.isFinite else { throw .invalid("\(path).properties.\(key) must be a positive number") }
                    return value
                case let value?: throw .invalid("\(path).properties.\(key) must be a number, found \(value.typeName)")
                }
            }
            return ROIFeature(
                polygons: geometry.polygons,
                maxResolutionDeg: try resolution("maxResolutionDeg"),
                minResolutionDeg: try resolution("minResolutionDeg")
            )
        }
    }
}
