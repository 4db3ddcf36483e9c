import ExportCore
import Foundation
import Logging
import MapDepotCore
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
                try await session()
            } catch {
                if Task.isCancelled { return }
                logger.warning("job notifications lost; listening again", metadata: ["error": "\(String(reflecting: error))"])
            }
            try? await Task.sleep(for: .seconds(1))
        }
    }

    /// One LISTEN on one pooled connection, until it fails or that connection closes. It is left as soon as the
    /// connection's close future fires: postgres-nio's `listen` can miss the close (its LISTEN is written without a
    /// write promise, as queries are: see ``Deadline``) and would otherwise wait for good, with no notification ever
    /// again after a PostgreSQL restart (issue #9).
    private func session() async throws {
        try await Deadline.abandoning { [database, signal] abandon in
            try await database.client.withConnection { connection in
                connection.closeFuture.whenComplete { _ in abandon(ListenerConnectionClosed()) }
                try await connection.listen(on: Self.channel) { notifications in
                    // Work queued while the listener was away is found by the first look.
                    signal.notify()
                    for try await _ in notifications { signal.notify() }
                }
            }
        }
    }
}

/// The listener's connection closed (a PostgreSQL restart, a network failure).
struct ListenerConnectionClosed: Error, CustomStringConvertible {
    var description: String { "the notification connection closed" }
}
