import ExportCore
import Foundation
import GeoJSON
import Logging
import MapDepotAPI
import MapDepotCore
import Testing
import TestSupport

/// Issue #5 part 3: a new task starts within a second because idle workers are woken, not because they poll often.
/// Workers here poll only once a minute; on PostgreSQL the task is queued by another node, so only `NOTIFY` (the
/// trigger of migration v4, heard by the listener) can wake the worker in time.
@Suite struct WorkerWakeUpTests {
    static func body(_ index: Int) -> String {
        let x = -170.0 + Double(index) * 10
        return #"{"catalogRecordID":"\#(TestServer.recordID)","domain":"RASTER","artifactCRS":"4326","webhooks":[],"ROI":{"type":"FeatureCollection","features":[{"type":"Feature","properties":{"maxResolutionDeg":0.17578125},"geometry":{"type":"Polygon","coordinates":[[[\#(x),0],[\#(x + 5),0],[\#(x + 5),5],[\#(x),5],[\#(x),0]]]}}]}}"#
    }

    @Test func aQueuedTaskStartsAtOnceThoughWorkersPollOnlyEveryMinute() async throws {
        var config = try await TestServer.make().config
        config.workerPollSeconds = 60
        let working = try await MapDepotComponents.open(config: config, logger: Logger(label: "worker"))
        let admitting = TestBackend.postgresURL == nil ? working : try await MapDepotComponents.open(config: config, logger: Logger(label: "api"))
        defer {
            working.close()
            admitting.close()
        }
        _ = try await admitting.catalog.add(CatalogRecordDraft(json: try JSONValue.parse(Data(try TestServer.recordBody().utf8))))
        let worker = Task { try await working.worker.run() }
        defer { worker.cancel() }
        // Let every slot find nothing and settle into its minute-long wait (and the listener connect).
        try await Task.sleep(for: .seconds(1.5))
        for index in 0..<3 {
            let queued = ContinuousClock.now
            let (task, outcome) = try await admitting.exports.create(ExportRequest(json: try JSONValue.parse(Data(Self.body(index).utf8))), customer: "alice")
            #expect(outcome == .queued)
            var status = task.status
            while status == .pending, ContinuousClock.now - queued < .seconds(20) {
                try await Task.sleep(for: .milliseconds(20))
                status = try #require(try await admitting.taskStore.task(id: task.id, customer: nil)).status
            }
            let waited = ContinuousClock.now - queued
            #expect(status != .pending, "task \(index) still PENDING after \(waited) on \(TestBackend.name)")
            // ~0.1 s here when idle; the bound leaves room for a loaded CI machine and is still far below the poll.
            #expect(waited < .seconds(15), "task \(index) started after \(waited) on \(TestBackend.name)")
            // Every slot is idle again (waiting for a minute) before the next task is queued.
            while !status.isFinished, ContinuousClock.now - queued < .seconds(90) {
                try await Task.sleep(for: .milliseconds(50))
                status = try #require(try await admitting.taskStore.task(id: task.id, customer: nil)).status
            }
            #expect(status == .completed)
            try await Task.sleep(for: .milliseconds(300))
        }
    }
}
