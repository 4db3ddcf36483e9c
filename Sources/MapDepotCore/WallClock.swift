import Foundation

/// The time, behind a protocol so that tests can set it (expiry, timestamps in file names).
public protocol WallClock: Sendable {
    func now() -> Date
}

/// The system's clock.
public struct SystemClock: WallClock {
    public init() {}
    public func now() -> Date { Date() }
}
