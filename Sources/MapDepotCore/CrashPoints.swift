import Foundation

/// Named places where the process kills itself with SIGKILL, for crash-safety tests of the real binary
/// (`MAPDEPOT_DEBUG_CRASH_AT`: `tiles:N` after N tiles of an export, `publish` after its package is published,
/// `webhook` with deliveries due, `replica:N` after N files of a replica, `replica-publish` after a zip of a
/// replica is published). Empty in every deployment; a
/// failpoint, not a code path: it never changes what happens when it does not fire.
public struct CrashPoints: Sendable {
    private let point: String?
    private let count: Int

    public init(_ specification: String?) {
        let parts = specification?.split(separator: ":", maxSplits: 1).map(String.init) ?? []
        point = parts.first.flatMap { $0.isEmpty ? nil : $0 }
        count = parts.count > 1 ? Int(parts[1]) ?? 0 : 0
    }

    public static let none = CrashPoints(nil)

    /// Kills the process when `name` is the configured point and `reached` has reached its count.
    public func check(_ name: String, reached: Int = 0) {
        guard point == name, reached >= count else { return }
        FileHandle.standardError.write(Data("mapdepot: crash point \(name) reached, killing the process\n".utf8))
        kill(getpid(), SIGKILL)
    }
}
