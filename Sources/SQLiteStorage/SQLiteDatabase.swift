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
        // Owner only (issue #9): the file holds the link-signing key and every token's hash. SQLite gives its
        // -wal and -shm files the database file's mode, so making the file first covers all three.
        if !FileManager.default.fileExists(atPath: path) {
            guard FileManager.default.createFile(atPath: path, contents: nil, attributes: [.posixPermissions: 0o600]) else {
                throw CocoaError(.fileWriteUnknown, userInfo: [NSFilePathErrorKey: path])
            }
        } else {
            try FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: path)
        }
        var configuration = Configuration()
        configuration.busyMode = .timeout(10)
        configuration.label = "mapdepot-state"
        // 16 KB pages for a new file (SQLite takes the size only before the first table, and before WAL mode, which the
        // pool sets after this; an existing file keeps its size). A change set's features are 1–4 KB of text each: on
        // 4 KB pages most took a page of their own and every page was a 4 KB write. Issue #15 measured ingestion
        // with both sizes in the README's bench.
        configuration.prepareDatabase { db in try db.execute(sql: "PRAGMA page_size = 16384") }
        pool = try DatabasePool(path: path, configuration: configuration)
        try Self.migrator.migrate(pool)
    }

    /// ``init(path:)`` off the cooperative pool: opening and migrating is file I/O, DDL and fsyncs, tens of milliseconds
    /// a database, and a process that opens several at once (a node's start, the parallel test pass opening dozens)
    /// would hold both cooperative threads for seconds.
    public static func open(path: String) async throws -> SQLiteDatabase {
        try await Offload.run { try SQLiteDatabase(path: path) }
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
        migrator.registerMigration("v3-export-lifecycle") { db in
            try db.execute(
                sql: """
                    CREATE TABLE export_jobs (
                      id INTEGER PRIMARY KEY AUTOINCREMENT,
                      dedup_key TEXT NOT NULL,
                      catalog_record_id TEXT NOT NULL,
                      roi TEXT NOT NULL,
                      status TEXT NOT NULL,
                      progress INTEGER NOT NULL DEFAULT 0,
                      batches_done INTEGER NOT NULL DEFAULT 0,
                      tiles_done INTEGER NOT NULL DEFAULT 0,
                      estimated_tiles INTEGER NOT NULL,
                      estimated_size INTEGER NOT NULL,
                      estimated_time INTEGER NOT NULL,
                      artifacts TEXT NOT NULL DEFAULT '[]',
                      error_reason TEXT,
                      created_at TEXT NOT NULL,
                      updated_at TEXT NOT NULL,
                      finished_at TEXT,
                      expired_at TEXT,
                      pause_requested INTEGER NOT NULL DEFAULT 0,
                      abort_requested INTEGER NOT NULL DEFAULT 0);
                    INSERT INTO export_jobs (id, dedup_key, catalog_record_id, roi, status, progress, estimated_tiles,
                      estimated_size, estimated_time, artifacts, error_reason, created_at, updated_at, finished_at, expired_at)
                    SELECT id, 'legacy-' || id, catalog_record_id, roi, status, progress, estimated_tiles, estimated_size,
                      estimated_time, artifacts, error_reason, created_at, updated_at, finished_at, expired_at FROM export_tasks;
                    CREATE UNIQUE INDEX export_jobs_live ON export_jobs (dedup_key)
                      WHERE status IN ('PENDING', 'IN_PROGRESS', 'PAUSED', 'COMPLETED');
                    CREATE INDEX export_jobs_status ON export_jobs (status, id);
                    ALTER TABLE export_tasks ADD COLUMN job_id INTEGER;
                    UPDATE export_tasks SET job_id = id;
                    ALTER TABLE export_tasks ADD COLUMN singular_webhook INTEGER NOT NULL DEFAULT 0;
                    ALTER TABLE export_tasks ADD COLUMN detached INTEGER NOT NULL DEFAULT 0;
                    CREATE INDEX export_tasks_job ON export_tasks (job_id);
                    CREATE TABLE webhook_deliveries (
                      id TEXT PRIMARY KEY,
                      task_id INTEGER NOT NULL,
                      event TEXT NOT NULL,
                      url TEXT NOT NULL,
                      secret TEXT,
                      body TEXT NOT NULL,
                      state TEXT NOT NULL,
                      attempts INTEGER NOT NULL DEFAULT 0,
                      next_attempt_at TEXT NOT NULL,
                      last_attempt_at TEXT,
                      last_status_code INTEGER,
                      last_error TEXT,
                      created_at TEXT NOT NULL,
                      expires_at TEXT NOT NULL,
                      delivered_at TEXT);
                    CREATE INDEX webhook_deliveries_due ON webhook_deliveries (state, next_attempt_at);
                    CREATE INDEX webhook_deliveries_task ON webhook_deliveries (task_id);
                    CREATE TABLE settings (name TEXT PRIMARY KEY, value TEXT NOT NULL);
                    """
            )
        }
        migrator.registerMigration("v4-job-leases") { db in
            try db.execute(
                sql: """
                    ALTER TABLE export_jobs ADD COLUMN lease_owner TEXT;
                    ALTER TABLE export_jobs ADD COLUMN lease_expires_at TEXT;
                    """
            )
        }
        migrator.registerMigration("v5-replica-chain-leases") { db in
            try db.execute(
                sql: """
                    CREATE TABLE replica_chain_leases (
                      layer_id INTEGER NOT NULL, geometry_type TEXT NOT NULL, owner TEXT NOT NULL, expires_at TEXT NOT NULL,
                      PRIMARY KEY (layer_id, geometry_type));
                    """
            )
        }
        migrator.registerMigration("v6-token-last-used") { db in
            try db.execute(sql: "ALTER TABLE tokens ADD COLUMN last_used_at TEXT")
        }
        // The replica registry (issue #12): who made a replica, a registered one's bucket and files, and which hidden
        // rows are a producer's work in progress (until now every hidden row was).
        migrator.registerMigration("v7-replica-registry") { db in
            try db.execute(
                sql: """
                    ALTER TABLE replicas ADD COLUMN origin TEXT NOT NULL DEFAULT 'produced';
                    ALTER TABLE replicas ADD COLUMN bucket_name TEXT;
                    ALTER TABLE replicas ADD COLUMN producing INTEGER NOT NULL DEFAULT 0;
                    UPDATE replicas SET producing = 1 WHERE is_hidden = 1;
                    CREATE TABLE registered_files (
                      file_id TEXT PRIMARY KEY,
                      replica_id TEXT NOT NULL REFERENCES replicas(replica_id) ON DELETE CASCADE,
                      position INTEGER NOT NULL);
                    CREATE INDEX registered_files_replica ON registered_files (replica_id, position);
                    """
            )
        }
        // A DEM export's parameters on its job, for the worker (issue #13).
        migrator.registerMigration("v8-job-options") { db in
            try db.execute(sql: "ALTER TABLE export_jobs ADD COLUMN options TEXT")
        }
        // A layer's stable source id (issue #14), made for the layers that exist.
        migrator.registerMigration("v9-layer-source-id") { db in
            try db.execute(
                sql: """
                    ALTER TABLE layers ADD COLUMN source_id TEXT;
                    UPDATE layers SET source_id = lower(hex(randomblob(4)) || '-' || hex(randomblob(2)) || '-4' || substr(hex(randomblob(2)), 2) || '-'
                      || substr('89ab', 1 + (abs(random()) % 4), 1) || substr(hex(randomblob(2)), 2) || '-' || hex(randomblob(6)));
                    """
            )
        }
        // A produced replica's layer hash (issue #14).
        migrator.registerMigration("v10-replica-layer-hash") { db in
            try db.execute(sql: "ALTER TABLE replicas ADD COLUMN layer_hash TEXT")
        }
        // Where a produced replica links to the other chain (issue #14: the snapshot a delta chains from).
        migrator.registerMigration("v11-replica-linked-sequence") { db in
            try db.execute(sql: "ALTER TABLE replicas ADD COLUMN linked_sequence INTEGER")
        }
        // Retention (issue #14): how far each chain and each layer's history are pruned.
        migrator.registerMigration("v12-retention") { db in
            try db.execute(
                sql: """
                    ALTER TABLE layers ADD COLUMN history_from INTEGER NOT NULL DEFAULT 0;
                    CREATE TABLE replica_pruning (layer_id INTEGER NOT NULL, geometry_type TEXT NOT NULL, replica_type TEXT NOT NULL,
                      pruned_through INTEGER NOT NULL, PRIMARY KEY (layer_id, geometry_type, replica_type));
                    """
            )
        }
        // Deltas over any window and area (issue #14), kept by their window and filter.
        migrator.registerMigration("v13-window-deltas") { db in
            try db.execute(
                sql: """
                    CREATE TABLE window_deltas (key TEXT PRIMARY KEY, build_id TEXT NOT NULL UNIQUE, layer_id INTEGER NOT NULL,
                      geometry_type TEXT NOT NULL, from_change_sequence INTEGER NOT NULL, change_sequence INTEGER NOT NULL, bbox TEXT,
                      files TEXT NOT NULL, created_at TEXT NOT NULL);
                    CREATE INDEX window_deltas_created ON window_deltas (created_at);
                    """
            )
        }
        // Webhook subscriptions to a layer's publications (issue #14).
        migrator.registerMigration("v14-layer-subscriptions") { db in
            try db.execute(
                sql: """
                    CREATE TABLE layer_subscriptions (id TEXT PRIMARY KEY, layer_id INTEGER NOT NULL, subscriber TEXT NOT NULL, url TEXT NOT NULL,
                      secret TEXT, geometry_types TEXT NOT NULL, created_at TEXT NOT NULL);
                    CREATE INDEX layer_subscriptions_layer ON layer_subscriptions (layer_id);
                    """
            )
        }
        return migrator
    }
}
