import Dispatch

/// Runs long synchronous CPU work — planning an export's coverage, which takes 0.4 s for a 100,000-vertex ROI — on
/// Dispatch's global queue, whose threads are not Swift's cooperative pool (two threads here): while it runs, every
/// other request and timer still has both of them (issue #9, DEVELOPERS "Never block a cooperative thread").
public enum Offload {
    public static func run<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            DispatchQueue.global(qos: .userInitiated).async { continuation.resume(with: Result { try body() }) }
        }
    }
}
