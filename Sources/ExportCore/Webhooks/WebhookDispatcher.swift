import Crypto
import Foundation
import Logging
import MapDepotCore

/// Sends webhook calls (issue #4 part 2).
public protocol WebhookTransport: Sendable {
    /// POSTs `body` and returns the HTTP status code; throws for a transport failure.
    func post(url: String, headers: [(String, String)], body: Data, timeout: Duration) async throws -> Int
}

/// Delivers the outbox: every due delivery is POSTed; a 2xx marks it delivered, anything else schedules the
/// next attempt with exponential back-off and jitter until the delivery's retry budget ends.
///
/// Each request carries `X-MapDepot-Delivery` (the delivery id: receivers drop duplicates by it),
/// `X-MapDepot-Event`, and with a secret `X-MapDepot-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of
/// "<t>.<raw body>">`. Delivery is at least once: a process killed after the receiver answered and before
/// the outcome was recorded sends the same delivery (same id) again.
public struct WebhookDispatcher: Sendable {
    public struct Settings: Sendable {
        public var firstRetry: TimeInterval
        public var maxRetry: TimeInterval
        public var timeout: Duration
        public var batch: Int
        public var pollInterval: Duration
        public var crashPoints: CrashPoints

        public init(
            firstRetry: TimeInterval, maxRetry: TimeInterval = 3_600, timeout: Duration, batch: Int = 16,
            pollInterval: Duration = .milliseconds(250), crashPoints: CrashPoints = .none
        ) {
            self.firstRetry = firstRetry
            self.maxRetry = maxRetry
            self.timeout = timeout
            self.batch = batch
            self.pollInterval = pollInterval
            self.crashPoints = crashPoints
        }
    }

    private let store: any ExportTaskStore
    private let transport: any WebhookTransport
    /// Signs the artifact links of the stored messages (``WebhookMessage``).
    private let links: any ArtifactLinks
    private let clock: any WallClock
    private let settings: Settings
    private let logger: Logger

    public init(
        store: any ExportTaskStore, transport: any WebhookTransport, links: any ArtifactLinks, clock: any WallClock, settings: Settings, logger: Logger
    ) {
        self.store = store
        self.transport = transport
        self.links = links
        self.clock = clock
        self.settings = settings
        self.logger = logger
    }

    /// A failed round (state database locked or away) is logged and tried again; it must not end the
    /// dispatcher and with it the server (issue #9).
    public func run() async throws {
        while !Task.isCancelled {
            let attempted: Int
            do {
                attempted = try await tick()
            } catch {
                try Task.checkCancellation()
                logger.warning("webhook round failed; trying again", metadata: ["error": "\(error)"])
                attempted = 0
            }
            if attempted == 0 { try await clock.sleep(for: settings.pollInterval) }
        }
    }

    /// One round: sends what is due now, concurrently; returns how many were attempted.
    @discardableResult
    public func tick() async throws -> Int {
        let now = clock.now()
        // Claimed until the attempts can have ended (timeout) with room to record them.
        let until = now.addingTimeInterval(Double(settings.timeout.components.seconds) + 5)
        let due = try await store.claimDueDeliveries(now: now, until: until, limit: settings.batch)
        guard !due.isEmpty else { return 0 }
        settings.crashPoints.check("webhook")
        try await withThrowingTaskGroup(of: Void.self) { group in
            for delivery in due {
                group.addTask { try await attempt(delivery) }
            }
            try await group.waitForAll()
        }
        return due.count
    }

    private func attempt(_ delivery: WebhookDelivery) async throws {
        var delivery = delivery
        let now = clock.now()
        let body = Data(try WebhookMessage.wire(stored: delivery.body, links: links).utf8)
        var headers = [
            ("Content-Type", "application/json"), ("X-MapDepot-Delivery", delivery.id.uuidString.lowercased()),
            ("X-MapDepot-Event", delivery.event.rawValue), ("User-Agent", "MapDepot-Webhooks"),
        ]
        if let secret = delivery.secret {
            headers.append(("X-MapDepot-Signature", Self.signature(secret: secret, timestamp: Int(now.timeIntervalSince1970), body: body)))
        }
        delivery.attempts += 1
        delivery.lastAttemptAt = now
        do {
            let status = try await transport.post(url: delivery.url, headers: headers, body: body, timeout: settings.timeout)
            delivery.lastStatusCode = status
            delivery.lastError = (200..<300).contains(status) ? nil : "HTTP \(status)"
        } catch {
            delivery.lastStatusCode = nil
            delivery.lastError = "\(error)"
        }
        if delivery.lastError == nil {
            delivery.state = .delivered
            delivery.deliveredAt = now
        } else {
            let next = now.addingTimeInterval(Self.backoff(attempt: delivery.attempts, first: settings.firstRetry, max: settings.maxRetry, jitter: clock.jitter(in: 0.5..<1)))
            if next > delivery.expiresAt {
                delivery.state = .failed
                logger.warning("webhook given up", metadata: ["webhook.delivery": "\(delivery.id)", "webhook.url": "\(delivery.url)"])
            } else {
                delivery.nextAttemptAt = next
            }
        }
        try await store.recordAttempt(delivery)
    }

    /// first × 2^(attempt−1), at most `max`, times `jitter` (the clock's, in [0.5, 1)).
    public static func backoff(attempt: Int, first: TimeInterval, max: TimeInterval, jitter: Double) -> TimeInterval {
        let exponential = min(max, first * pow(2, Double(Swift.max(0, attempt - 1))))
        return exponential * jitter
    }

    /// `t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>`.
    public static func signature(secret: String, timestamp: Int, body: Data) -> String {
        var message = Data("\(timestamp).".utf8)
        message.append(body)
        let mac = HMAC<SHA256>.authenticationCode(for: message, using: SymmetricKey(data: Data(secret.utf8)))
        return "t=\(timestamp),v1=" + Hex.encode(mac)
    }
}
