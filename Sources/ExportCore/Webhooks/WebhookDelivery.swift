import Foundation
import GeoJSON
import JSONValues
import MapDepotCore

/// One webhook call in the outbox: written with the change it reports, sent until a 2xx or the retry
/// budget ends.
public struct WebhookDelivery: Sendable, Hashable {
    public enum State: String, Sendable, CaseIterable {
        case pending = "PENDING"
        case delivered = "DELIVERED"
        case failed = "FAILED"
    }

    public var id: UUID
    public var taskId: Int
    public var event: WebhookEvent
    public var url: String
    public var secret: String?
    /// The exact body sent on every attempt (so signatures and receivers' dedup see one message).
    public var body: String
    public var state: State
    public var attempts: Int
    public var nextAttemptAt: Date
    public var lastAttemptAt: Date?
    public var lastStatusCode: Int?
    public var lastError: String?
    public var createdAt: Date
    /// After this, no more attempts: the retry budget.
    public var expiresAt: Date
    public var deliveredAt: Date?

    public init(
        id: UUID, taskId: Int, event: WebhookEvent, url: String, secret: String?, body: String, state: State, attempts: Int,
        nextAttemptAt: Date, lastAttemptAt: Date?, lastStatusCode: Int?, lastError: String?, createdAt: Date, expiresAt: Date,
        deliveredAt: Date?
    ) {
        self.id = id
        self.taskId = taskId
        self.event = event
        self.url = url
        self.secret = secret
        self.body = body
        self.state = state
        self.attempts = attempts
        self.nextAttemptAt = nextAttemptAt
        self.lastAttemptAt = lastAttemptAt
        self.lastStatusCode = lastStatusCode
        self.lastError = lastError
        self.createdAt = createdAt
        self.expiresAt = expiresAt
        self.deliveredAt = deliveredAt
    }

    /// The delivery as `GET /export-tasks/{id}/webhooks` shows it (no secret, no body).
    public var json: JSONValue {
        func date(_ value: Date?) -> JSONValue { value.map { .string(Timestamp.string($0)) } ?? .null }
        return .object([
            "id": .string(id.uuidString.lowercased()), "event": .string(event.rawValue), "url": .string(url),
            "state": .string(state.rawValue), "attempts": .number(Double(attempts)), "nextAttemptAt": date(state == .pending ? nextAttemptAt : nil),
            "lastAttemptAt": date(lastAttemptAt), "lastStatusCode": lastStatusCode.map { .number(Double($0)) } ?? .null,
            "lastError": lastError.map(JSONValue.string) ?? .null, "createdAt": date(createdAt), "deliveredAt": date(deliveredAt),
            "signed": .bool(secret != nil),
        ])
    }
}
