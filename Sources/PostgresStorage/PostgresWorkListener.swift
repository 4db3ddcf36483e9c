import ExportCore
import Foundation
import Logging
import PostgresNIO

/// `LISTEN mapdepot_jobs` on one connection of the pool, turning each notification (a job became PENDING on any
/// node, see migration v4) into a ``WorkSignal`` for this node's idle workers. A lost connection is re-established
/// after a second; the workers' fallback poll covers what is missed meanwhile.
public struct PostgresWorkListener: Sendable {
    public static let channel = "mapdepot_jobs"
    let database: PostgresDatabase
    let signal: WorkSignal
    let logger: Logger

    public init(database: PostgresDatabase, signal: WorkSignal, logger: Logger) {
        self.database = database
        self.signal = signal
        self.logger = logger
    }

    /// Listens until cancelled.
    public func run() async {
        while !Task.isCancelled {
            do {
                try await database.client.withConnection { connection in
                    try await connection.listen(on: Self.channel) { notifications in
                        // Work queued while the listener was away is found by the first look.
                        signal.notify()
                        for try await _ in notifications { signal.notify() }
                    }
                }
            } catch {
                if Task.isCancelled { return }
                logger.warning("job notifications lost; listening again", metadata: ["error": "\(error)"])
            }
            try? await Task.sleep(for: .seconds(1))
        }
    }
}
