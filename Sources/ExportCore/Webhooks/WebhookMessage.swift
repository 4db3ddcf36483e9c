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
    /// The stored form: the wire body with each artifact's `key` where its `url` goes.
    public static func stored(task: ExportTask, event: WebhookEvent, at: Date) -> String {
        CanonicalJSON.text(.object(["event": .string(event.rawValue), "timestamp": .string(Timestamp.string(at)), "data": task.json(links: nil)]))
    }

    /// The body to send: artifacts' keys replaced by their links. A body stored whole (before issue #10) is sent as it is.
    public static func wire(stored text: String, links: any ArtifactLinks) throws -> String {
        guard case .object(var message) = try CanonicalJSON.parse(text), case .object(var data)? = message["data"],
            case .array(let artifacts)? = data["artifacts"], artifacts.contains(where: { $0.objectValue?["key"] != nil })
        else { return text }
        let expires = data["expiredAt"]?.stringValue.flatMap(Timestamp.parse)
        data["artifacts"] = .array(
            artifacts.map { artifact in
                guard case .object(var fields) = artifact, let key = fields.removeValue(forKey: "key")?.stringValue else { return artifact }
                fields["url"] = .string(links.url(for: key, expires: expires))
                return .object(fields)
            }
        )
        message["data"] = .object(data)
        return CanonicalJSON.text(.object(message))
    }
}
