import ExportCore
import MapDepotCore
import Foundation
import GRDB

/// MapDepot's embedded state: one SQLite file in WAL mode, schema by versioned migrations.
///
/// The stores (catalog, tasks, tokens) are views on this one pool, so a task and its transition are
/// written in one transaction.
public struct SQLiteDatabase: Sendable, HealthCheck {
    let pool: DatabasePool

    /// Opens (creating if needed) and migrates `path`.
    public init(path: String) throws {
        try FileManager.default.createDirectory(
            atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true
        )
        var configuration = Configuration()
        configuration.busyMode = .timeout(10)
        configuration.label = "mapdepot-state"
        pool = try DatabasePool(path: path, configuration: configuration)
        try Self.migrator.migrate(pool)
    }

    public func check() async throws {
        _ = try await pool.read { db in try Int.fetchOne(db, sql: "SELECT 1") }
    }

    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1") { db in
            try db.execute(
                sql: """
                    CREATE TABLE tokens (
                      hash TEXT PRIMARY KEY,
                      subject TEXT NOT NULL,
                      scopes TEXT NOT NULL,
                      created_at TEXT NOT NULL,
                      expires_at TEXT);
                    CREATE TABLE catalog_records (
                      id TEXT PRIMARY KEY,
                      body TEXT NOT NULL,
                      created_at TEXT NOT NULL);
                    CREATE TABLE export_tasks (
                      id INTEGER PRIMARY KEY AUTOINCREMENT,
                      customer TEXT NOT NULL,
                      catalog_record_id TEXT NOT NULL,
                      domain TEXT NOT NULL,
                      roi TEXT NOT NULL,
                      artifact_crs TEXT NOT NULL,
                      description TEXT,
                      keywords TEXT,
                      parameters TEXT,
                      webhooks TEXT NOT NULL,
                      estimated_size INTEGER NOT NULL,
                      estimated_time INTEGER NOT NULL,
                      estimated_tiles INTEGER NOT NULL,
                      status TEXT NOT NULL,
                      error_reason TEXT,
                      progress INTEGER NOT NULL DEFAULT 0,
                      artifacts TEXT NOT NULL DEFAULT '[]',
                      created_at TEXT NOT NULL,
                      updated_at TEXT NOT NULL,
                      expired_at TEXT,
                      finished_at TEXT);
                    CREATE INDEX export_tasks_customer ON export_tasks (customer, id);
                    CREATE INDEX export_tasks_status ON export_tasks (status, id);
                    CREATE TABLE export_task_transitions (
                      task_id INTEGER NOT NULL REFERENCES export_tasks(id) ON DELETE CASCADE,
                      from_status TEXT,
                      to_status TEXT NOT NULL,
                      at TEXT NOT NULL,
                      reason TEXT);
                    CREATE INDEX export_task_transitions_task ON export_task_transitions (task_id);
                    """
            )
        }
        migrator.registerMigration("v2-replication") { db in
            try db.execute(
                sql: """
                    CREATE TABLE layers (
                      layer_id INTEGER PRIMARY KEY,
                      layer_name TEXT NOT NULL UNIQUE,
                      geometry_types TEXT NOT NULL,
                      created_at TEXT NOT NULL,
                      last_sequence INTEGER NOT NULL DEFAULT 0);
                    CREATE TABLE layer_changes (
                      layer_id INTEGER NOT NULL REFERENCES layers(layer_id),
                      sequence INTEGER NOT NULL,
                      timestamp TEXT NOT NULL,
                      change_id TEXT,
                      created INTEGER NOT NULL,
                      modified INTEGER NOT NULL,
                      deleted INTEGER NOT NULL,
                      PRIMARY KEY (layer_id, sequence));
                    CREATE UNIQUE INDEX layer_changes_change_id ON layer_changes (layer_id, change_id) WHERE change_id IS NOT NULL;
                    CREATE TABLE feature_versions (
                      layer_id INTEGER NOT NULL,
                      feature_id TEXT NOT NULL,
                      sequence INTEGER NOT NULL,
                      geometry_type TEXT,
                      geometry TEXT,
                      properties TEXT);
                    CREATE UNIQUE INDEX feature_versions_key ON feature_versions (layer_id, feature_id, sequence);
                    CREATE INDEX feature_versions_sequence ON feature_versions (layer_id, sequence);
                    CREATE TABLE replicas (
                      replica_id TEXT PRIMARY KEY,
                      layer_id INTEGER NOT NULL,
                      geometry_type TEXT NOT NULL,
                      replica_type TEXT NOT NULL,
                      sequence_number INTEGER NOT NULL,
                      timestamp TEXT NOT NULL,
                      from_timestamp TEXT,
                      change_sequence INTEGER NOT NULL,
                      from_change_sequence INTEGER,
                      is_hidden INTEGER NOT NULL DEFAULT 1,
                      files TEXT NOT NULL DEFAULT '[]',
                      created_at TEXT NOT NULL);
                    CREATE INDEX replicas_chain ON replicas (layer_id, geometry_type, replica_type, timestamp);
                    """
            )
        }
        return migrator
    }
}
