import ExportCore
import Foundation
import GeoJSON
import HTTPTypes
import HummingbirdTesting
import JSONValues
import Logging
import MapDepotAPI
import MapDepotCore
import NIOCore
import Testing
import TestSupport

/// Issue #4: dedup, webhooks, control, expiry and archive, live progress, admission, the v1.5 dialect.
@Suite struct ExportLifecycleTests {
    /// France (a MultiPolygon) and Fiji at zoom ≤ 3, with the request's webhooks.
    static func body(webhooks: String = "[]", member: String = "webhooks", reorder: Bool = false) throws -> String {
        var features: [JSONValue] = try ["France", "Fiji"].map { name in
            var feature = try Fixtures.country(name)
            feature.properties = ["maxResolutionDeg": .number(0.703125 / 8)]
            if reorder, case .multiPolygon(let polygons)? = feature.geometry {
                // Same geometry: polygons in another order, rings starting elsewhere and wound the other way.
                feature.geometry = .multiPolygon(
                    polygons.reversed().map { polygon in
                        PolygonCoordinates(rings: polygon.rings.map { ring in
                            let open = Array(ring.dropLast())
                            let rotated = Array(open[2...] + open[..<2]).reversed()
                            return Array(rotated) + [rotated.first!]
                        })
                    }
                )
            }
            return feature.json
        }
        if reorder { features.reverse() }
        let roi = CanonicalJSON.text(.object(["type": .string("FeatureCollection"), "features": .array(features)]))
        return #"{"catalogRecordID":"\#(TestServer.recordID)","domain":"RASTER","artifactCRS":"4326","\#(member)":\#(webhooks),"ROI":\#(roi)}"#
    }

    @Test func equivalentRequestsShareOneExportEvenWhenTheyArriveTogether() async throws {
        var server = try await TestServer.make {
            $0.worker.run = false
            $0.webhooks.allowPrivateNetworks = true
        }
        let components = try await MapDepotComponents.open(config: server.config, logger: Logger(label: "test"))
        let first = server
        let hookA = #"[{"url":"http://127.0.0.1:9/a","events":["TASK_COMPLETED"]}]"#
        let hookB = #"[{"url":"http://127.0.0.1:9/a","events":["TASK_FAILED"]},{"url":"http://127.0.0.1:9/b","events":["TASK_COMPLETED"]}]"#
        let original = try Self.body(webhooks: hookA)
        let equivalent = try Self.body(webhooks: hookB, reorder: true)
        try await first.run { client in
            try await client.addRecord(first)
            let a = try await client.call(.post, "/export-tasks", token: first.alice, body: original).json.objectValue ?? [:]
            let b = try await client.call(.post, "/export-tasks", token: first.alice, body: equivalent).json.objectValue ?? [:]
            #expect(a["id"] == b["id"])
            // Webhooks merged: no URL twice, events unioned.
            let hooks = (b["webhooks"]?.arrayValue ?? []).compactMap(\.objectValue)
            #expect(hooks.count == 2)
            #expect(hooks.first { $0["url"] == .string("http://127.0.0.1:9/a") }?["events"] == .array([.string("TASK_COMPLETED"), .string("TASK_FAILED")]))
            // 50 identical requests at once from three customers: one job.
            let ids = try await withThrowingTaskGroup(of: Int.self) { group in
                for index in 0..<50 {
                    let token = [first.alice, first.bob, first.admin][index % 3]
                    group.addTask {
                        let response = try await client.call(.post, "/export-tasks", token: token, body: original)
                        return Int(response.json.objectValue?["id"]?.numberValue ?? -1)
                    }
                }
                return try await group.reduce(into: Set<Int>()) { $0.insert($1) }
            }
            #expect(ids.count == 3)
            var jobs = Set<Int>()
            for id in ids { jobs.insert(try #require(try await components.taskStore.task(id: id, customer: nil)).jobId) }
            #expect(jobs.count == 1)
        }
        // The worker runs the one job; every customer's task completes with the same artifacts.
        server.config.worker.run = true
        let second = server
        try await second.run { client in
            let alice = try await client.waitForTask(1, token: second.alice)
            #expect(alice["status"] == .string("COMPLETED"))
            let bobTask = try #require(try await components.taskStore.tasks(customer: "bob", limit: 5, status: nil).first)
            let bob = try await client.waitForTask(bobTask.id, token: second.bob)
            #expect(bob["artifacts"]?.arrayValue?.count == 2)
            #expect(alice["artifacts"]?.arrayValue?.first?.objectValue?["sha256"] == bob["artifacts"]?.arrayValue?.first?.objectValue?["sha256"])
            // A new customer is answered at once from the completed export, and the expiry moves on.
            let before = alice["expiredAt"]?.stringValue ?? ""
            try await Task.sleep(for: .milliseconds(20))
            let carol = try await components.tokens.create(subject: "carol", scopes: [.export], lifetime: nil)
            let answered = try await client.call(.post, "/export-tasks", token: carol, body: Self.body()).json.objectValue ?? [:]
            #expect(answered["status"] == .string("COMPLETED"))
            #expect(answered["artifacts"]?.arrayValue?.count == 2)
            #expect((answered["expiredAt"]?.stringValue ?? "") > before)
            #expect(try await components.taskStore.job(id: bobTask.jobId)?.status == .completed)
        }
    }

    @Test func webhooksAreSignedRetriedAndRecorded() async throws {
        let secret = "0123456789abcdef-secret"
        let receiver = try await WebhookReceiver.start(secret: secret, failFirst: 2)
        defer { Task { await receiver.stop() } }
        let server = try await TestServer.make {
            $0.webhooks.allowPrivateNetworks = true
            $0.webhooks.firstRetrySeconds = 0.05
        }
        let hooks = #"[{"url":"\#(receiver.url)","events":["TASK_STARTED","TASK_COMPLETED"],"secret":"\#(secret)"}]"#
        try await server.run { client in
            try await client.addRecord(server)
            let created = try await client.call(.post, "/export-tasks", token: server.alice, body: Self.body(webhooks: hooks))
            #expect(created.status == .created)
            #expect(created.json.objectValue?["webhooks"]?.arrayValue?.first?.objectValue?["secret"] == nil)
            let id = Int(created.json.objectValue?["id"]?.numberValue ?? 0)
            _ = try await client.waitForTask(id, token: server.alice)
            var deliveries: [[String: JSONValue]] = []
            for _ in 0..<100 {
                deliveries = (try await client.call(.get, "/export-tasks/\(id)/webhooks", token: server.alice).json.arrayValue ?? []).compactMap(\.objectValue)
                if deliveries.count == 2 && deliveries.allSatisfy({ $0["state"] == .string("DELIVERED") }) { break }
                try await Task.sleep(for: .milliseconds(100))
            }
            #expect(deliveries.map { $0["event"] } == [.string("TASK_STARTED"), .string("TASK_COMPLETED")])
            #expect(deliveries.allSatisfy { $0["state"] == .string("DELIVERED") && $0["signed"] == .bool(true) })
            #expect(deliveries.reduce(0) { $0 + Int($1["attempts"]?.numberValue ?? 0) } == 4)
        }
        #expect(receiver.calls.count == 4)
        #expect(receiver.calls.allSatisfy { $0.signatureValid == true })
        #expect(receiver.duplicates == 0)
        let completed = try #require(receiver.acceptedCalls.first { $0.event == "TASK_COMPLETED" })
        let body = try JSONValue.parse(completed.body).objectValue ?? [:]
        #expect(body["event"] == .string("TASK_COMPLETED"))
        #expect(body["data"]?.objectValue?["status"] == .string("COMPLETED"))
        #expect(body["data"]?.objectValue?["artifacts"]?.arrayValue?.count == 2)
        #expect(body["timestamp"]?.stringValue != nil)
    }

    @Test func backOffAndTheRetryBudgetFollowAnInjectedClock() async throws {
        let receiver = try await WebhookReceiver.start(failFirst: 1_000)
        defer { Task { await receiver.stop() } }
        var config = try await TestServer.make().config
        config.webhooks.allowPrivateNetworks = true
        config.webhooks.retryBudgetSeconds = 30
        let clock = TestClock()
        let components = try await MapDepotComponents.open(config: config, clock: clock, logger: Logger(label: "test"))
        _ = try await components.catalog.add(CatalogRecordDraft(json: try JSONValue.parse(Data(try await TestServer.recordBody().utf8))))
        let hooks = #"[{"url":"\#(receiver.url)","events":["TASK_STARTED"]}]"#
        let (task, _) = try await components.exports.create(ExportRequest(json: try JSONValue.parse(Data(try Self.body(webhooks: hooks).utf8))), customer: "alice")
        _ = try await components.taskStore.claimNextJob(now: clock.now(), lease: JobLease(owner: components.worker.node, until: .distantFuture))
        var attemptTimes: [Double] = []
        for _ in 0..<80 {
            if try await components.dispatcher.tick() > 0 { attemptTimes.append(clock.now().timeIntervalSince1970) }
            // Nothing else is due until the back-off has passed.
            #expect(try await components.dispatcher.tick() == 0)
            clock.advance(0.5)
        }
        let delivery = try #require(try await components.taskStore.deliveries(taskId: task.id).first)
        #expect(delivery.state == .failed)
        #expect(delivery.attempts == attemptTimes.count)
        let gaps = zip(attemptTimes.dropFirst(), attemptTimes).map { $0 - $1 }
        // first retry 2 s × jitter [0.5, 1), then doubling, each within its window (0.5 s steps).
        for (index, gap) in gaps.enumerated() {
            let window = 2 * pow(2, Double(index))
            #expect(gap >= window * 0.5 && gap <= window + 0.5, "gap \(index): \(gap)")
        }
        #expect(attemptTimes.last! - attemptTimes.first! <= 30)
        #expect(receiver.calls.count == attemptTimes.count)
    }

    @Test func controlEndpointsFollowTheStateMachine() async throws {
        let server = try await TestServer.make { $0.worker.run = false }
        try await server.run { client in
            try await client.addRecord(server)
            let id = Int(try await client.call(.post, "/export-tasks", token: server.alice, body: Self.body()).json.objectValue?["id"]?.numberValue ?? 0)
            func act(_ action: String, token: String? = nil) async throws -> TestResponse {
                try await client.call(.post, "/export-tasks/\(id)/\(action)", token: token ?? server.alice)
            }
            #expect(try await act("pause").json.objectValue?["status"] == .string("PAUSED"))
            let again = try await act("pause")
            #expect(again.status == .conflict)
            #expect(again.message == "task \(id) is PAUSED; pause applies to PENDING or IN_PROGRESS tasks only")
            #expect(try await act("resume").json.objectValue?["status"] == .string("PENDING"))
            #expect(try await act("archive").status == .conflict)
            #expect(try await act("abort", token: server.bob).status == .notFound)
            #expect(try await act("abort").json.objectValue?["status"] == .string("ABORTED"))
            let resume = try await act("resume")
            #expect(resume.status == .conflict)
            #expect(resume.message.contains("is ABORTED"))
            #expect(try await act("archive").json.objectValue?["status"] == .string("ARCHIVED"))
            #expect(try await client.call(.get, "/export-tasks", token: server.alice).json == .array([]))
            let archived = try await client.call(.get, "/export-tasks?status=ARCHIVED", token: server.alice).json.arrayValue ?? []
            #expect(archived.count == 1)
            #expect(try await client.call(.get, "/export-tasks?status=DONE", token: server.alice).status == .badRequest)
            let transitions = try await MapDepotComponents.open(config: server.config, logger: Logger(label: "t")).taskStore.transitions(id: id).map(\.to)
            #expect(transitions == [.pending, .paused, .pending, .aborted, .archived])
        }
    }

    @Test func pauseKeepsThePartialPackageAndResumeContinuesFromTheCheckpoint() async throws {
        var config = try await TestServer.make().config
        config.export.writeBatch = 40
        config.export.readConcurrency = 2
        let components = try await MapDepotComponents.open(config: config, logger: Logger(label: "test"))
        _ = try await components.catalog.add(CatalogRecordDraft(json: try JSONValue.parse(Data(try await TestServer.recordBody().utf8))))
        let world = #"{"catalogRecordID":"\#(TestServer.recordID)","domain":"RASTER","artifactCRS":"4326","webhooks":[],"ROI":{"type":"FeatureCollection","features":[{"type":"Feature","properties":{},"geometry":{"type":"Polygon","coordinates":[[[-180,-90],[180,-90],[180,90],[-180,90],[-180,-90]]]}}]}}"#
        let (task, _) = try await components.exports.create(ExportRequest(json: try JSONValue.parse(Data(world.utf8))), customer: "alice")
        let job = try #require(try await components.taskStore.claimNextJob(now: Date(), lease: JobLease(owner: components.worker.node, until: .distantFuture)))
        _ = try await components.exports.control(.pause, id: task.id, customer: "alice")
        await components.worker.execute(job)
        let paused = try #require(try await components.taskStore.job(id: job.id))
        #expect(paused.status == .paused)
        #expect(paused.batchesDone > 0 && paused.progress > 0 && paused.progress < 100)
        let staging = NSString(string: try components.artifacts.stagingPath(for: "exports/\(job.id)/x")).deletingLastPathComponent
        #expect(try FileManager.default.contentsOfDirectory(atPath: staging).contains { $0.hasSuffix(".gpkg") })

        _ = try await components.exports.control(.resume, id: task.id, customer: "alice")
        let resumed = try #require(try await components.taskStore.claimNextJob(now: Date(), lease: JobLease(owner: components.worker.node, until: .distantFuture)))
        #expect(resumed.batchesDone == paused.batchesDone)
        await components.worker.execute(resumed)
        let done = try #require(try await components.taskStore.task(id: task.id, customer: nil))
        #expect(done.status == .completed)
        let package = try #require(try await components.artifacts.localFile(for: done.artifacts[0].key))
        #expect(try await GDAL.validate(package) == "")
        let digests = try await GDAL.tileDigests(package, table: String(done.artifacts[0].name.dropLast(5)))
        #expect(digests.count == 682)
        let pyramid = try await Fixtures.blueMarblePyramid()
        for (tile, digest) in digests {
            let parts = tile.split(separator: "/")
            #expect(digest == sha256Hex(try Data(contentsOf: URL(fileURLWithPath: "\(pyramid)/\(parts[0])/\(parts[1])/\(parts[2]).png"))))
        }
        #expect(try await components.taskStore.transitions(id: task.id).map(\.to) == [.pending, .inProgress, .paused, .pending, .inProgress, .completed])

        // Abort mid-run: the partial package goes.
        let (other, _) = try await components.exports.create(ExportRequest(json: try JSONValue.parse(Data(try Self.body().utf8))), customer: "alice")
        let second = try #require(try await components.taskStore.claimNextJob(now: Date(), lease: JobLease(owner: components.worker.node, until: .distantFuture)))
        _ = try await components.exports.control(.abort, id: other.id, customer: "alice")
        await components.worker.execute(second)
        #expect(try await components.taskStore.task(id: other.id, customer: nil)?.status == .aborted)
        let folder = NSString(string: try components.artifacts.stagingPath(for: "exports/\(second.id)/x")).deletingLastPathComponent
        #expect((try? FileManager.default.contentsOfDirectory(atPath: folder))?.contains { $0.hasSuffix(".gpkg") } != true)
    }

    @Test func expiryDeletesArtifactsAndArchiveHidesOldTasks() async throws {
        let receiver = try await WebhookReceiver.start()
        defer { Task { await receiver.stop() } }
        var config = try await TestServer.make().config
        config.webhooks.allowPrivateNetworks = true
        let clock = TestClock()
        let components = try await MapDepotComponents.open(config: config, clock: clock, logger: Logger(label: "test"))
        _ = try await components.catalog.add(CatalogRecordDraft(json: try JSONValue.parse(Data(try await TestServer.recordBody().utf8))))
        let hooks = #"[{"url":"\#(receiver.url)","events":["TASK_EXPIRED","TASK_ARCHIVED"]}]"#
        let request = try ExportRequest(json: try JSONValue.parse(Data(try Self.body(webhooks: hooks).utf8)))
        let (task, _) = try await components.exports.create(request, customer: "alice")
        let job = try #require(try await components.taskStore.claimNextJob(now: clock.now(), lease: JobLease(owner: components.worker.node, until: .distantFuture)))
        await components.worker.execute(job)
        let completed = try #require(try await components.taskStore.task(id: task.id, customer: nil))
        #expect(completed.status == .completed)
        #expect(completed.expiredAt == Timestamp.milliseconds(clock.now().addingTimeInterval(30 * 86_400)) || completed.expiredAt != nil)
        let key = completed.artifacts[0].key
        #expect(try await components.artifacts.localFile(for: key) != nil)

        clock.advance(29 * 86_400)
        try await components.sweeper.tick()
        #expect(try await components.taskStore.task(id: task.id, customer: nil)?.status == .completed)
        clock.advance(2 * 86_400)
        try await components.sweeper.tick()
        #expect(try await components.taskStore.task(id: task.id, customer: nil)?.status == .expired)
        #expect(try await components.artifacts.localFile(for: key) == nil)
        // An expired export is not reused: the same request runs again.
        let (again, outcome) = try await components.exports.create(request, customer: "alice")
        #expect(outcome == .queued && again.id != task.id)

        clock.advance(91 * 86_400)
        try await components.sweeper.tick()
        #expect(try await components.taskStore.task(id: task.id, customer: nil)?.status == .archived)
        try await components.dispatcher.tick()
        #expect(receiver.acceptedCalls.map(\.event).sorted() == ["TASK_ARCHIVED", "TASK_EXPIRED"])
    }

    @Test func liveProgressStreamsUntilTheTaskEnds() async throws {
        let server = try await TestServer.make { $0.export.writeBatch = 40 }
        try await server.run { client in
            try await client.addRecord(server)
            let created = try await client.call(.post, "/export-tasks", token: server.alice, body: Self.body())
            let id = Int(created.json.objectValue?["id"]?.numberValue ?? 0)
            let stream = try await client.call(.get, "/export-tasks/\(id)/events", token: server.alice)
            #expect(stream.headers[.contentType] == "text/event-stream")
            let events = String(buffer: stream.body).split(separator: "\n").filter { $0.hasPrefix("data: ") }
                .compactMap { try? JSONValue.parse(Data($0.dropFirst(6).utf8)).objectValue }
            #expect(events.last?["status"] == .string("COMPLETED"))
            let progress = events.compactMap { $0["progress"]?.numberValue }
            #expect(progress == progress.sorted())
            #expect(events.count >= 2)
        }
    }

    @Test func admissionRefusesWhatCannotFitOrWouldExceedTheCustomersShare() async throws {
        let server = try await TestServer.make {
            $0.worker.run = false
            $0.export.maxActiveTasksPerCustomer = 1
        }
        try await server.run { client in
            try await client.addRecord(server)
            #expect(try await client.call(.post, "/export-tasks", token: server.alice, body: Self.body()).status == .created)
            // The same request is answered from the queue; another one is over the customer's limit.
            #expect(try await client.call(.post, "/export-tasks", token: server.alice, body: Self.body()).status == .created)
            let other = try await client.call(.post, "/export-tasks", token: server.alice, body: try exportBody(countries: [("Chile", 3)]))
            #expect(other.status == .tooManyRequests)
            #expect(other.message.contains("the limit is 1"))
            // Bob at his limit cannot join Alice's pending export either: his share would be one more active task.
            #expect(try await client.call(.post, "/export-tasks", token: server.bob, body: try exportBody(countries: [("Chile", 3)])).status == .created)
            let share = try await client.call(.post, "/export-tasks", token: server.bob, body: Self.body())
            #expect(share.status == .tooManyRequests && share.message.contains("the limit is 1"))
        }
        let full = try await TestServer.make {
            $0.worker.run = false
            $0.export.storageReserveBytes = 1 << 62
        }
        try await full.run { client in
            try await client.addRecord(full)
            let refused = try await client.call(.post, "/export-tasks", token: full.alice, body: Self.body())
            #expect(refused.status.code == 507)
            #expect(refused.message.contains("not enough storage: the export needs about"))
            let hook = try await client.call(.post, "/export-tasks", token: full.alice, body: Self.body(webhooks: #"[{"url":"http://127.0.0.1:8080/x","events":["TASK_FAILED"]}]"#))
            #expect(hook.status == .badRequest)
            #expect(hook.message.contains("loopback or private address"))
        }
    }

    @Test func version15ClientsWorkUnchanged() async throws {
        let server = try await TestServer.make { $0.webhooks.allowPrivateNetworks = true }
        try await server.run { client in
            try await client.addRecord(server)
            let hook = #"[{"url":"http://127.0.0.1:9/h","events":["TASK_COMPLETED"]}]"#
            let created = try await client.call(.post, "/export-tasks?token=\(server.alice)", body: Self.body(webhooks: hook, member: "webhook"))
            #expect(created.status == .created)
            let object = created.json.objectValue ?? [:]
            #expect(object["webhook"]?.arrayValue?.count == 1)
            #expect(object["webhooks"] == nil)
            let task = try await client.waitForTask(Int(object["id"]?.numberValue ?? 0), token: server.alice)
            let url = try #require(task["artifacts"]?.arrayValue?.first?.objectValue?["url"]?.stringValue)
            let link = try #require(URLComponents(string: url))
            let pathAndQuery = link.path + "?" + (link.query ?? "")
            #expect(link.query?.contains("signature=") == true)
            // The signed link downloads without a token; a changed signature or the bare path does not.
            let download = try await client.call(.get, pathAndQuery)
            #expect(download.status == .ok)
            #expect("\"\(sha256Hex(Data(download.body.readableBytesView)))\"" == download.headers[.eTag])
            #expect(try await client.call(.get, pathAndQuery.replacingOccurrences(of: "signature=", with: "signature=0")).status == .forbidden)
            #expect(try await client.call(.get, link.path).status == .unauthorized)
            #expect(try await client.call(.get, link.path, token: server.bob).status == .notFound)
            #expect(try await client.call(.get, link.path, token: server.alice).status == .ok)
            let both = #"{"catalogRecordID":"\#(TestServer.recordID)","domain":"RASTER","artifactCRS":"4326","webhook":[],"webhooks":[],"ROI":{"type":"FeatureCollection","features":[]}}"#
            #expect(try await client.call(.post, "/export-tasks", token: server.alice, body: both).message.contains("not both"))
        }
    }
}
