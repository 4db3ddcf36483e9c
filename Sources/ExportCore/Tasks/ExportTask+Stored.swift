import Foundation
import GeoJSON
import MapDepotCore

extension TaskStatus {
    /// The webhook event a move to this status sends (none for a return to the queue).
    public var webhookEvent: WebhookEvent? {
        switch self {
        case .inProgress: .taskStarted
        case .completed: .taskCompleted
        case .failed: .taskFailed
        case .aborted: .taskAborted
        case .paused: .taskPaused
        case .expired: .taskExpired
        case .archived: .taskArchived
        case .pending: nil
        }
    }
}

extension Artifact {
    /// The artifact as stores keep it.
    public var storedJSON: JSONValue {
        .object([
            "type": .string(type.rawValue), "name": .string(name), "size": .number(Double(size)), "key": .string(key),
            "sha256": .string(sha256),
        ])
    }

    /// A stored list of artifacts (see ``storedJSON``).
    public static func list(stored text: String) throws -> [Artifact] {
        (try CanonicalJSON.parse(text).arrayValue ?? []).compactMap { value -> Artifact? in
            guard let object = value.objectValue, let type = object["type"]?.stringValue.flatMap(ArtifactType.init(rawValue:)),
                let name = object["name"]?.stringValue, let size = object["size"]?.numberValue,
                let key = object["key"]?.stringValue, let sha256 = object["sha256"]?.stringValue
            else { return nil }
            return Artifact(type: type, name: name, size: Int64(size), key: key, sha256: sha256)
        }
    }

    public static func storedText(_ artifacts: [Artifact]) -> String {
        CanonicalJSON.text(.array(artifacts.map(\.storedJSON)))
    }
}

extension Webhook {
    /// A stored list of webhooks, secrets included (see ``storedJSON``).
    public static func list(stored text: String) throws -> [Webhook] {
        (try CanonicalJSON.parse(text).arrayValue ?? []).compactMap { value -> Webhook? in
            guard let object = value.objectValue, let url = object["url"]?.stringValue else { return nil }
            let events = (object["events"]?.arrayValue ?? []).compactMap { $0.stringValue.flatMap(WebhookEvent.init(rawValue:)) }
            return Webhook(url: url, events: events, secret: object["secret"]?.stringValue)
        }
    }

    public static func storedText(_ webhooks: [Webhook]) -> String {
        CanonicalJSON.text(.array(webhooks.map(\.storedJSON)))
    }
}
