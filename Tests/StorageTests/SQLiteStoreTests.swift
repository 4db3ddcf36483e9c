import ExportCore
import FileStorage
import Foundation
import GeoJSON
import JSONValues
import Logging
import MapDepotCore
import PostgresStorage
import SQLiteStorage
import Testing
import TestSupport
import TileGrid
import TileSources

/// The export task store contract (issue #10): one test body, run against SQLite and, when a PostgreSQL server is
/// given (`MAPDEPOT_TEST_POSTGRES_SERVER`, or the PostgreSQL pass's `MAPDEPOT_TEST_POSTGRES_URL`), PostgreSQL, in one
/// process.
@Suite struct ExportTaskStoreContractTests {
    static let backends = ["SQLite"] + (TestBackend.postgresServer == nil ? [] : ["PostgreSQL"])

    func request() throws -> ExportRequest {
        let body = #"{"catalogRecordID":"6f4c3a52-4b6e-4d8e-9a55-0a1f2b3c4d5e","domain":"RASTER","artifactCRS":"4326","webhooks":[{"url":"https://x.org/h","events":["TASK_COMPLETED"]}],"ROI":{"type":"FeatureCollection","features":[{"type":"Feature","properties":{},"geometry":{"type":"Polygon","coordinates":[[[0,0],[1,0],[1,1],[0,0]]]}}]}}"#
        return try ExportRequest(json: try JSONValue.parse(Data(body.utf8)))
    }

    func store(_ backend: String) async throws -> any ExportTaskStore {
        guard backend == "PostgreSQL" else {
            return SQLiteExportTaskStore(database: try await SQLiteDatabase.open(path: try Fixtures.temporaryDirectory("store") + "/state.sqlite"), webhookRetryBudget: 86_400)
        }
        let database = try PostgresDatabase(url: try await TestBackend.freshPostgresDatabase(), logger: Logger(label: "test"))
        Task { await database.run() }
        try await database.migrate()
        return PostgresExportTaskStore(database: database, webhookRetryBudget: 86_400)
    }

    func admit(_ tasks: any ExportTaskStore, customer: String, key: String = "k", limit: Int = .max) async throws -> (ExportTask, AdmissionOutcome) {
        let estimate = ExportEstimate(tiles: 10, bytes: 1000, seconds: 1, tilesPerZoom: [0: 10])
        return try await tasks.admit(
            NewExportTask(
                customer: customer, request: try request(), estimate: estimate, createdAt: Date(timeIntervalSince1970: 1000), dedupKey: key, expiryDays: 30,
                maxActiveTasks: limit
            )
        )
    }

    static let lease = JobLease(owner: "test", until: .distantFuture)

    @Test(arguments: backends) func jobLifecycleIsRecordedAndNotifiesEveryAttachedTask(backend: String) async throws {
        let tasks = try await store(backend)
        let (created, outcome) = try await admit(tasks, customer: "alice")
        #expect(outcome == .queued && created.status == .pending)
        #expect(try await tasks.task(id: created.id, customer: nil) == created, "the answer is what was stored")
        #expect(created.webhooks == [Webhook(url: "https://x.org/h", events: [.taskCompleted])])
        #expect(try await tasks.task(id: created.id, customer: "bob") == nil)
        let (shared, sharedOutcome) = try await admit(tasks, customer: "bob")
        #expect(sharedOutcome == .sharedJob && shared.jobId == created.jobId && shared.id != created.id)
        #expect(try await tasks.task(id: shared.id, customer: nil) == shared)
        let (again, againOutcome) = try await admit(tasks, customer: "alice")
        #expect(againOutcome == .existingTask && again.id == created.id)

        let job = try #require(try await tasks.claimNextJob(now: Date(), lease: Self.lease))
        #expect(job.id == created.jobId && job.status == .inProgress && job.lease?.owner == "test")
        #expect(try await tasks.job(id: job.id) == job, "the claimed job is what was stored")
        #expect(try await tasks.claimNextJob(now: Date(), lease: Self.lease) == nil)
        let checkpoint = ExportRules.Checkpoint(progress: 42, batchesDone: 3, tilesDone: 4, estimatedTime: 9)
        #expect(try await tasks.recordProgress(jobId: job.id, lease: JobLease(owner: "other", until: .distantFuture), checkpoint: checkpoint, event: nil, now: Date()) == nil)
        _ = try await tasks.recordProgress(jobId: job.id, lease: Self.lease, checkpoint: checkpoint, event: nil, now: Date())
        #expect(try await tasks.task(id: shared.id, customer: "bob")?.progress == 42)
        #expect(try await tasks.job(id: job.id)?.batchesDone == 3)
        let artifact = Artifact(type: .gpkg, name: "a.gpkg", size: 5, key: "exports/1/a.gpkg", sha256: "ab")
        #expect(try await tasks.finishJob(jobId: job.id, lease: Self.lease, to: .completed, reason: nil, artifacts: [artifact], expiresAt: Date(timeIntervalSinceNow: 60), now: Date()))
        for id in [created.id, shared.id] {
            let done = try #require(try await tasks.task(id: id, customer: nil))
            #expect(done.status == .completed && done.progress == 100 && done.artifacts == [artifact])
            #expect(try await tasks.transitions(id: id).map(\.to) == [.pending, .inProgress, .completed])
            let deliveries = try await tasks.deliveries(taskId: id)
            #expect(deliveries.map(\.event) == [.taskCompleted])
            #expect(deliveries.first?.body == WebhookMessage.stored(task: done, event: .taskCompleted, at: done.updatedAt))
        }
        #expect(try await tasks.finishJob(jobId: job.id, lease: Self.lease, to: .failed, reason: nil, artifacts: nil, expiresAt: nil, now: Date()) == false)
    }

    @Test(arguments: backends) func concurrentAdmissionsMakeOneJobAndConcurrentClaimsNeverShareOne(backend: String) async throws {
        let tasks = try await store(backend)
        let outcomes = try await withThrowingTaskGroup(of: AdmissionOutcome.self) { group in
            for index in 0..<30 {
                group.addTask { try await admit(tasks, customer: "c\(index % 3)").1 }
            }
            return try await group.reduce(into: [AdmissionOutcome]()) { $0.append($1) }
        }
        #expect(outcomes.filter { $0 == .queued }.count == 1)
        for index in 0..<20 { _ = try await admit(tasks, customer: "d", key: "key-\(index)") }
        let claimed = try await withThrowingTaskGroup(of: [Int].self) { group in
            for _ in 0..<8 {
                group.addTask {
                    var mine: [Int] = []
                    while let job = try await tasks.claimNextJob(now: Date(), lease: Self.lease) { mine.append(job.id) }
                    return mine
                }
            }
            return try await group.reduce(into: [Int]()) { $0 += $1 }
        }
        #expect(claimed.count == 21)
        #expect(Set(claimed).count == 21)
    }

    /// Issue #9's race, now inside the admission transaction: concurrent requests of one customer never pass its limit together.
    @Test(arguments: backends) func concurrentRequestsOfOneCustomerStayWithinItsLimit(backend: String) async throws {
        let tasks = try await store(backend)
        let admitted = await withTaskGroup(of: Bool.self) { group in
            for index in 0..<12 {
                group.addTask { (try? await admit(tasks, customer: "eve", key: "limit-\(index)", limit: 5)) != nil }
            }
            return await group.reduce(0) { $0 + ($1 ? 1 : 0) }
        }
        #expect(admitted == 5)
        #expect(try await tasks.activeTaskCount(customer: "eve") == 5)
    }

    @Test(arguments: backends) func controlsRequeueAndExpiry(backend: String) async throws {
        let tasks = try await store(backend)
        let (alice, _) = try await admit(tasks, customer: "alice")
        let (bob, _) = try await admit(tasks, customer: "bob")
        await #expect(throws: ServiceError.self) { try await tasks.control(.pause, taskId: alice.id, customer: "alice", now: Date()) }
        await #expect(throws: ServiceError.self) { try await tasks.control(.abort, taskId: alice.id, customer: "bob", now: Date()) }
        _ = try await tasks.control(.abort, taskId: bob.id, customer: "bob", now: Date())
        #expect(try await tasks.task(id: bob.id, customer: nil)?.status == .aborted)
        #expect(try await tasks.customerHasTask(customer: "bob", jobId: bob.jobId) == false)
        #expect(try await tasks.attachedTasks(jobId: alice.jobId).map(\.id) == [alice.id])
        _ = try await tasks.control(.pause, taskId: alice.id, customer: "alice", now: Date())
        #expect(try await tasks.task(id: alice.id, customer: nil)?.status == .paused)
        let resumed = try await tasks.control(.resume, taskId: alice.id, customer: "alice", now: Date())
        #expect(resumed.wakesWorkers)
        let job = try #require(try await tasks.claimNextJob(now: Date(), lease: JobLease(owner: "dead", until: Date(timeIntervalSince1970: 1))))
        #expect(try await tasks.requeueExpiredLeases(now: Date()) == [job.id])
        #expect(try await tasks.task(id: alice.id, customer: nil)?.status == .pending)
        _ = try #require(try await tasks.claimNextJob(now: Date(), lease: Self.lease))
        #expect(try await tasks.requeueInProgress(now: Date()) == [job.id])
        _ = try #require(try await tasks.claimNextJob(now: Date(), lease: Self.lease))
        #expect(try await tasks.finishJob(jobId: job.id, lease: Self.lease, to: .completed, reason: nil, artifacts: [], expiresAt: Date(timeIntervalSince1970: 5), now: Date()))
        #expect(try await tasks.expiredJobs(now: Date()).map(\.id) == [job.id])
        try await tasks.transitionJob(jobId: job.id, to: .expired, reason: nil, artifacts: [], expiresAt: nil, now: Date())
        try await tasks.transitionJob(jobId: job.id, to: .expired, reason: nil, artifacts: [], expiresAt: nil, now: Date())
        await #expect(throws: ServiceError.self) {
            try await tasks.transitionJob(jobId: job.id, to: .pending, reason: nil, artifacts: nil, expiresAt: nil, now: Date())
        }
        #expect(try await tasks.finishedTasks(before: Date()).map(\.id) == [alice.id, bob.id], "what the sweeper archives: finished before the cutoff")
        #expect(try await tasks.finishedTasks(before: Date(timeIntervalSince1970: 0)).isEmpty)
        try await tasks.transitionTask(id: alice.id, to: .archived, reason: "old", now: Date())
        #expect(try await tasks.transitions(id: alice.id).map(\.to) == [.pending, .paused, .pending, .inProgress, .pending, .inProgress, .pending, .inProgress, .completed, .expired, .archived])
        #expect(try await tasks.tasks(customer: "alice", limit: 10, status: nil).isEmpty)
        #expect(try await tasks.tasks(customer: "alice", limit: 10, status: .archived).map(\.id) == [alice.id])
    }
}

@Suite struct DirectoryArtifactStoreTests {
    /// Issue #15: a new state file has 16 KB pages (ingestion of 1–4 KB features was ~18 % faster than on 4 KB), and
    /// opening it again keeps them. The size is the file header's bytes 16–17 (big-endian).
    @Test func aNewStateFileHasSixteenKilobytePages() async throws {
        let path = try Fixtures.temporaryDirectory("pages") + "/state.sqlite"
        for _ in 0..<2 {
            let database = try await SQLiteDatabase.open(path: path)
            try await database.check()
            let header = try #require(FileManager.default.contents(atPath: path)?.prefix(18))
            #expect(Int(header[16]) << 8 | Int(header[17]) == 16_384)
        }
    }

    @Test func publishesWholeFilesWithTheirChecksum() async throws {
        let store = try DirectoryArtifactStore(root: try Fixtures.temporaryDirectory("artifacts"))
        let staging = try store.stagingPath(for: "exports/7/a.json")
        try Data("hello".utf8).write(to: URL(fileURLWithPath: staging))
        #expect(store.localPath(for: "exports/7/a.json") == nil)
        let published = try await store.publish(stagingPath: staging, key: "exports/7/a.json")
        #expect(published.size == 5)
        #expect(published.sha256 == "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824")
        #expect(store.localPath(for: "exports/7/a.json") != nil)
        #expect(!FileManager.default.fileExists(atPath: staging))
        try await store.delete(prefix: "exports/7")
        #expect(store.localPath(for: "exports/7/a.json") == nil)
    }

    @Test(arguments: ["../x", "a/../../b", "/etc/passwd", ".staging/x", "a//b", "a/./b", ""])
    func refusesUnsafeKeys(key: String) {
        #expect(!ArtifactKey.isSafe(key))
    }
}

@Suite struct TileSourceTests {
    @Test func directorySourceReadsRowsAndCountsZooms() async throws {
        let source = try LocalTileSourceOpener().open(.directory(path: try await Fixtures.blueMarblePyramid(), scheme: .xyz, format: .png))
        let statistics = try await source.statistics()
        #expect(statistics.map(\.tiles) == [2, 8, 32, 128, 512])
        let row = try await source.tiles(zoom: 1, row: 1, columns: 0..<4)
        #expect(row.count == 4)
        #expect(try await source.tiles(zoom: 1, row: 1, columns: 4..<9).isEmpty)
        #expect(try await source.coordinates(zoom: 2).count == 32)
    }

    @Test func tmsRowsAreFlipped() async throws {
        let pyramid = try await Fixtures.blueMarblePyramid()
        let xyz = try LocalTileSourceOpener().open(.directory(path: pyramid, scheme: .xyz, format: .png))
        let tms = try LocalTileSourceOpener().open(.directory(path: pyramid, scheme: .tms, format: .png))
        let top = try await xyz.tiles(zoom: 2, row: 0, columns: 0..<1)
        let flipped = try await tms.tiles(zoom: 2, row: WorldCRS84Quad.matrixHeight(2) - 1, columns: 0..<1)
        #expect(top[0] == flipped[0])
    }

    @Test func missingSourcesAreRefusedWithTheReason() {
        #expect(throws: ServiceError.invalid("source directory /nope does not exist")) {
            try LocalTileSourceOpener().open(.directory(path: "/nope", scheme: .xyz, format: .png))
        }
        #expect(throws: ServiceError.self) { try LocalTileSourceOpener().open(.mbtiles(path: "/nope.mbtiles")) }
    }
}
