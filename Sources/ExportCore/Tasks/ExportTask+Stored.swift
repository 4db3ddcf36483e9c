import Foundation
import GeoJSON
import JSONValues
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
    /// - Throws: ``CorruptRow`` for an entry none of our writers produce.
    public static func list(stored text: String) throws -> [Artifact] {
        try storedArray(text, column: "artifacts").map { value in
            guard let object = value.objectValue, let type = object["type"]?.stringValue.flatMap(ArtifactType.init(rawValue:)),
                let name = object["name"]?.stringValue, let size = object["size"]?.numberValue,
                let key = object["key"]?.stringValue, let sha256 = object["sha256"]?.stringValue
            else { throw CorruptRow(table: "export", column: "artifacts", value: text) }
            return Artifact(type: type, name: name, size: Int64(size), key: key, sha256: sha256)
        }
    }

    public static func storedText(_ artifacts: [Artifact]) -> String {
        CanonicalJSON.text(.array(artifacts.map(\.storedJSON)))
    }
}

extension Webhook {
    /// A stored list of webhooks, secrets included (see ``storedJSON``).
    /// - Throws: ``CorruptRow`` for an entry none of our writers produce.
    public static func list(stored text: String) throws -> [Webhook] {
        try storedArray(text, column: "webhooks").map { value in
            guard let object = value.objectValue, let url = object["url"]?.stringValue, let listed = object["events"]?.arrayValue else {
                throw CorruptRow(table: "export_tasks", column: "webhooks", value: text)
            }
            let events = try listed.map { event in
                guard let event = event.stringValue.flatMap(WebhookEvent.init(rawValue:)) else {
                    throw CorruptRow(table: "export_tasks", column: "webhooks", value: text)
                }
                return event
            }
            var format = WebhookFormat.task
            if let raw = object["format"] {
                guard let parsed = raw.stringValue.flatMap(WebhookFormat.init(rawValue:)) else {
                    throw CorruptRow(table: "export_tasks", column: "webhooks", value: text)
                }
                format = parsed
            }
            return Webhook(url: url, events: events, secret: object["secret"]?.stringValue, format: format)
        }
    }

    public static func storedText(_ webhooks: [Webhook]) -> String {
        CanonicalJSON.text(.array(webhooks.map(\.storedJSON)))
    }
}

/// A stored JSON array.
func storedArray(_ text: String, column: String) throws -> [JSONValue] {
    guard let array = try? CanonicalJSON.parse(text).arrayValue else { throw CorruptRow(table: "export", column: column, value: text) }
    return array
}
