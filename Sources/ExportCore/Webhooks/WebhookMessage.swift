import Foundation
import GeoJSON
import JSONValues
import MapDepotCore

/// A webhook body, `{event, timestamp, data: <task>}` (SPEC "Webhooks"), in two forms.
///
/// The outbox stores the event with the task as it was (artifacts by their store key): the change and its notification
/// commit together without the store knowing how links are made (issue #10). The dispatcher turns it into the wire body
/// by signing each artifact's link, valid until the task's `expiredAt`; a link depends only on key and expiry, so every
/// attempt sends the same bytes (signatures and receivers' dedup see one message).
public enum WebhookMessage {
    /// The stored form: the wire body with each artifact's `key` where its `url` goes. exporter-trigger callbacks
    /// (``WebhookFormat/exporterCallback``) are `CallbackExportResponse` instead, its `links` added on sending.
    public static func stored(task: ExportTask, event: WebhookEvent, at: Date, format: WebhookFormat = .task) -> String {
        switch format {
        case .task:
            return CanonicalJSON.text(.object(["event": .string(event.rawValue), "timestamp": .string(Timestamp.string(at)), "data": task.json(links: nil)]))
        case .exporterCallback:
            let texts = ExportTask.callbackDescriptions
            return CanonicalJSON.text(task.triggerResult(links: nil, description: task.status == .completed ? texts.completed : texts.failed))
        }
    }

    /// The body to send: artifacts' keys replaced by their links. A body stored whole (before issue #10) is sent as it is.
    public static func wire(stored text: String, links: any ArtifactLinks) throws -> String {
        guard case .object(var message) = try CanonicalJSON.parse(text) else { return text }
        if message["event"] == .string(WebhookEvent.replicaPublished.rawValue), case .object(var data)? = message["data"] {
            // A replica (issue #14): each file's key becomes its download URL, and `urls` lists them as GET /replica does.
            let files: [JSONValue] = (data["files"]?.arrayValue ?? []).map { file in
                guard case .object(var fields) = file, let key = fields.removeValue(forKey: "key")?.stringValue else { return file }
                fields["url"] = .string(links.url(for: key, expires: nil))
                return .object(fields)
            }
            data["files"] = .array(files)
            data["urls"] = .array(files.compactMap { $0.objectValue?["url"] })
            message["data"] = .object(data)
            return CanonicalJSON.text(.object(message))
        }
        if case .object(var data)? = message["data"] {
            guard let signed = sign(data, expires: "expiredAt", links: links) else { return text }
            data["artifacts"] = signed
            message["data"] = .object(data)
        } else {
            // An exporter-trigger callback: artifacts at the top, and `links` made from them.
            guard let signed = sign(message, expires: "expirationTime", links: links) else { return text }
            message["artifacts"] = signed
            message["links"] = ExportTask.triggerLinks(artifacts: signed, links: links)
        }
        return CanonicalJSON.text(.object(message))
    }

    /// The object's artifacts with their links, valid until the object's `expires` member; nil when none has a key.
    private static func sign(_ object: [String: JSONValue], expires member: String, links: any ArtifactLinks) -> JSONValue? {
        guard case .array(let artifacts)? = object["artifacts"], artifacts.contains(where: { $0.objectValue?["key"] != nil }) else { return nil }
        let expires = object[member]?.stringValue.flatMap(Timestamp.parse)
        return .array(
            artifacts.map { artifact in
                guard case .object(var fields) = artifact, let key = fields.removeValue(forKey: "key")?.stringValue else { return artifact }
                fields["url"] = .string(links.url(for: key, expires: expires))
                return .object(fields)
            }
        )
    }
}
