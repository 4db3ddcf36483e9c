/// Whether a store answers: what `GET /readiness` asks.
public protocol HealthCheck: Sendable {
    func check() async throws
}
