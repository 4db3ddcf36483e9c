import ExportCore
import Foundation
import GeoJSON
import JSONValues
import MapDepotCore
import Testing

/// The export state machine without a database (issue #10): every legal and illegal move of every status, admission,
/// webhook merging, the outbox entries each change produces, leases, requeue and the owner's controls.
@Suite struct ExportRulesTests {
    static let now = Date(timeIntervalSince1970: 1_800_000_000)
    static let hook = Webhook(url: "https://x.org/h", events: WebhookEvent.allCases, secret: "s")

    static func job(_ status: TaskStatus, id: Int = 7, lease: JobLease? = nil) -> ExportJob {
        ExportJob(
            id: id, dedupKey: "k", catalogRecordID: UUID(), roi: .null, status: status, progress: 40, batchesDone: 2, tilesDone: 9,
            estimatedTiles: 20, estimatedSize: 2000, estimatedTime: 30, artifacts: [], errorReason: nil, createdAt: now, updatedAt: now,
            expiredAt: nil, finishedAt: nil, pauseRequested: false, abortRequested: false, lease: lease
        )
    }

    static func task(_ status: TaskStatus, id: Int = 1, customer: String = "alice", webhooks: [Webhook] = [hook]) -> ExportTask {
        ExportTask(
            id: id, jobId: 7, usesSingularWebhook: false, customer: customer, catalogRecordID: UUID(), domain: .raster, roi: .null,
            artifactCRS: "4326", description: nil, keywords: nil, parameters: nil, webhooks: webhooks, estimatedSize: 2000, estimatedTime: 30,
            estimatedTiles: 20, status: status, errorReason: nil, progress: 40, artifacts: [], createdAt: now, updatedAt: now, expiredAt: nil,
            finishedAt: nil
        )
    }

    static func state(_ status: TaskStatus, tasks: Int = 1, lease: JobLease? = nil) -> JobState {
        JobState(job: job(status, lease: lease), tasks: (1...tasks).map { task(status, id: $0, customer: "c\($0)") })
    }

    static let pairs = TaskStatus.allCases.flatMap { from in TaskStatus.allCases.map { (from, $0) } }

    static let legalJobMoves: Set<String> = [
        "PENDING>IN_PROGRESS", "PENDING>PAUSED", "PENDING>ABORTED", "IN_PROGRESS>PENDING", "IN_PROGRESS>COMPLETED", "IN_PROGRESS>PAUSED",
        "IN_PROGRESS>ABORTED", "IN_PROGRESS>FAILED", "PAUSED>PENDING", "PAUSED>ABORTED", "COMPLETED>EXPIRED",
    ]

    @Test(arguments: pairs) func everyJobMoveIsDecided(from: TaskStatus, to: TaskStatus) throws {
        let state = Self.state(from, tasks: 2)
        let key = "\(from.rawValue)>\(to.rawValue)"
        if from == to && to.isFinished {
            #expect(try ExportRules.move(state, to: to, reason: nil, now: Self.now).isEmpty, "a finished job moved to its own status changes nothing")
        } else if Self.legalJobMoves.contains(key) {
            let changes = try ExportRules.move(state, to: to, reason: "why", now: Self.now)
            let job = try #require(changes.jobs.first)
            #expect(job.status == to && job.updatedAt == Self.now)
            #expect(job.errorReason == ([.failed, .aborted].contains(to) ? "why" : nil), "errorReason says why a task failed or was aborted only")
            #expect(changes.transitions.allSatisfy { $0.reason == "why" })
            #expect(changes.tasks.map(\.status) == [to, to] && changes.tasks.allSatisfy { $0.progress == job.progress })
            #expect(changes.transitions.map(\.taskId) == [1, 2] && changes.transitions.allSatisfy { $0.from == from && $0.to == to })
            #expect(changes.events.map(\.event) == (to.webhookEvent.map { [$0, $0] } ?? []))
            #expect((job.lease == nil) == (to != .inProgress) || job.lease == nil)
            #expect((job.finishedAt != nil) == to.isFinished)
        } else {
            #expect(throws: ServiceError.self, "\(key) must be refused") { try ExportRules.move(state, to: to, reason: nil, now: Self.now) }
        }
    }

    static let legalTaskMoves: Set<String> = [
        "PENDING>ABORTED", "IN_PROGRESS>ABORTED", "PAUSED>ABORTED", "COMPLETED>ARCHIVED", "FAILED>ARCHIVED", "ABORTED>ARCHIVED", "EXPIRED>ARCHIVED",
    ]

    @Test(arguments: pairs) func everyTaskDetachIsDecided(from: TaskStatus, to: TaskStatus) throws {
        let task = Self.task(from)
        let key = "\(from.rawValue)>\(to.rawValue)"
        if from == to {
            #expect(try ExportRules.detach(task, to: to, reason: nil, now: Self.now).isEmpty)
        } else if Self.legalTaskMoves.contains(key) {
            let changes = try ExportRules.detach(task, to: to, reason: "r", now: Self.now)
            #expect(changes.jobs.isEmpty, "the job goes on")
            #expect(changes.tasks.map(\.status) == [to] && changes.tasks[0].isDetached && changes.tasks[0].finishedAt == Self.now)
            #expect(changes.transitions == [TaskTransition(taskId: 1, from: from, to: to, at: Self.now, reason: "r")])
            #expect(changes.events.map(\.event) == [to.webhookEvent!])
        } else {
            #expect(throws: ServiceError.self, "\(key) must be refused") { try ExportRules.detach(task, to: to, reason: nil, now: Self.now) }
        }
    }

    @Test func completingFillsEveryTaskAndNotifiesOnlySubscribedHooks() throws {
        let lease = JobLease(owner: "n1", until: Self.now.addingTimeInterval(30))
        var state = Self.state(.inProgress, tasks: 2, lease: lease)
        state.tasks[1].webhooks = [Webhook(url: "https://y.org/h", events: [.taskFailed])]
        let artifact = Artifact(type: .gpkg, name: "a.gpkg", size: 5, key: "exports/7/a.gpkg", sha256: "ab")
        let expires = Self.now.addingTimeInterval(86_400)
        let changes = try #require(
            try ExportRules.finish(state, lease: lease, to: .completed, reason: nil, artifacts: [artifact], expiresAt: expires, now: Self.now)
        )
        #expect(changes.jobs[0].progress == 100 && changes.jobs[0].lease == nil && changes.jobs[0].artifacts == [artifact])
        #expect(changes.tasks.allSatisfy { $0.artifacts == [artifact] && $0.expiredAt == expires && $0.estimatedTime == 0 && $0.progress == 100 })
        #expect(changes.events.map(\.task.id) == [1], "task 2 subscribed to TASK_FAILED only")
        let deliveries = changes.deliveries(retryBudget: 60)
        #expect(deliveries.map(\.url) == ["https://x.org/h"] && deliveries[0].secret == "s" && deliveries[0].expiresAt == Self.now.addingTimeInterval(60))
        #expect(deliveries[0].nextAttemptAt == Self.now && deliveries[0].state == .pending)
    }

    @Test func onlyTheLeaseHolderFinishesRenewsOrRecordsProgress() throws {
        let lease = JobLease(owner: "n1", until: Self.now)
        let other = JobLease(owner: "n2", until: Self.now)
        let state = Self.state(.inProgress, lease: lease)
        let checkpoint = ExportRules.Checkpoint(progress: 60, batchesDone: 3, tilesDone: 12, estimatedTime: 5)
        #expect(try ExportRules.finish(state, lease: other, to: .completed, reason: nil, artifacts: nil, expiresAt: nil, now: Self.now) == nil)
        #expect(ExportRules.renew(state.job, lease: other) == nil)
        #expect(ExportRules.progress(state, lease: other, checkpoint: checkpoint, event: nil, now: Self.now) == nil)
        #expect(ExportRules.renew(Self.job(.pending, lease: lease), lease: lease) == nil, "a job not running has no lease to renew")
        let later = JobLease(owner: "n1", until: Self.now.addingTimeInterval(90))
        #expect(ExportRules.renew(state.job, lease: later)?.jobs[0].lease == later)
        let progressed = try #require(ExportRules.progress(state, lease: later, checkpoint: checkpoint, event: .taskInProgress, now: Self.now))
        #expect(progressed.jobs[0].batchesDone == 3 && progressed.jobs[0].tilesDone == 12 && progressed.jobs[0].lease == later)
        #expect(progressed.tasks.map(\.progress) == [60] && progressed.events.map(\.event) == [.taskInProgress])
        #expect(throws: ServiceError.self) {
            try ExportRules.finish(state, lease: lease, to: .expired, reason: nil, artifacts: nil, expiresAt: nil, now: Self.now)
        }
    }

    @Test func claimAndRequeue() throws {
        let lease = JobLease(owner: "n1", until: Self.now.addingTimeInterval(30))
        let claimed = try ExportRules.claim(Self.state(.pending), lease: lease, now: Self.now)
        #expect(claimed.jobs[0].status == .inProgress && claimed.jobs[0].lease == lease && claimed.events.map(\.event) == [.taskStarted])
        #expect(throws: ServiceError.self) { try ExportRules.claim(Self.state(.paused), lease: lease, now: Self.now) }
        var running = Self.state(.inProgress, lease: lease)
        running.job.pauseRequested = true
        let requeued = try ExportRules.requeue(running, now: Self.now)
        #expect(requeued.jobs[0].status == .pending && requeued.jobs[0].lease == nil && requeued.jobs[0].batchesDone == 2, "the checkpoint stays")
        #expect(requeued.jobs[0].pauseRequested, "a pause asked of the stopped run applies to the resumed one")
        #expect(requeued.transitions.map(\.reason) == ["the node running the export stopped; it resumes"] && requeued.events.isEmpty)
        #expect(try ExportRules.requeue(Self.state(.completed), now: Self.now).isEmpty)
    }

    // MARK: Admission

    static func new(customer: String, webhooks: [Webhook] = [], limit: Int = .max) throws -> NewExportTask {
        let hooks = webhooks.map { #"{"url":"\#($0.url)","events":["TASK_COMPLETED"]}"# }.joined(separator: ",")
        let body = #"{"catalogRecordID":"6f4c3a52-4b6e-4d8e-9a55-0a1f2b3c4d5e","domain":"RASTER","artifactCRS":"4326","webhooks":[\#(hooks)],"ROI":{"type":"FeatureCollection","features":[{"type":"Feature","properties":{},"geometry":{"type":"Polygon","coordinates":[[[0,0],[1,0],[1,1],[0,0]]]}}]}}"#
        return NewExportTask(
            customer: customer, request: try ExportRequest(json: try JSONValue.parse(Data(body.utf8))),
            estimate: ExportEstimate(tiles: 10, bytes: 1000, seconds: 4, tilesPerZoom: [0: 10]), createdAt: now, dedupKey: "k", expiryDays: 30,
            maxActiveTasks: limit
        )
    }

    @Test func aNewKeyQueuesAJobUnlessTheCustomerIsAtItsLimit() throws {
        let plan = try ExportRules.admit(try Self.new(customer: "alice"), live: nil, activeTasks: 3)
        #expect(plan.outcome == .queued && plan.changes.newJob?.status == .pending && plan.changes.newTask?.status == .pending)
        #expect(plan.changes.transitions == [TaskTransition(taskId: 0, from: nil, to: .pending, at: Self.now, reason: nil)])
        let assigned = plan.assigning(jobId: 11, taskId: 12)
        #expect(assigned.task.id == 12 && assigned.task.jobId == 11 && assigned.changes.transitions[0].taskId == 12)
        #expect(throws: ServiceError.self) { try ExportRules.admit(try Self.new(customer: "alice", limit: 3), live: nil, activeTasks: 3) }
        #expect(try ExportRules.admit(try Self.new(customer: "alice", limit: 3), live: nil, activeTasks: 2).outcome == .queued)
    }

    @Test func theSameCustomerGetsItsTaskWithWebhooksMergedAndAnotherSharesTheJob() throws {
        let live = Self.state(.inProgress)
        let again = try ExportRules.admit(try Self.new(customer: "c1", webhooks: [Webhook(url: "https://z.org/h", events: [])]), live: live, activeTasks: 50)
        #expect(again.outcome == .existingTask && again.task.id == 1 && again.changes.newTask == nil && again.changes.events.isEmpty)
        #expect(again.task.webhooks.map(\.url) == ["https://x.org/h", "https://z.org/h"])
        let shared = try ExportRules.admit(try Self.new(customer: "bob"), live: live, activeTasks: 50)
        #expect(shared.outcome == .sharedJob && shared.task.jobId == 7 && shared.task.status == .inProgress && shared.task.progress == 40)
        #expect(shared.changes.transitions.map(\.to) == [.inProgress] && shared.changes.events.isEmpty)
        // A share of a running job is one more active task: refused at the limit; the customer's own task is not.
        #expect(throws: ServiceError.self) { try ExportRules.admit(try Self.new(customer: "bob", limit: 3), live: live, activeTasks: 3) }
        #expect(try ExportRules.admit(try Self.new(customer: "c1", limit: 3), live: live, activeTasks: 3).outcome == .existingTask)
    }

    @Test func aCompletedJobIsKeptLongerAndAnswersAtOnce() throws {
        var live = Self.state(.completed)
        live.job.expiredAt = Self.now.addingTimeInterval(86_400)
        let longer = Self.now.addingTimeInterval(30 * 86_400)
        let again = try ExportRules.admit(try Self.new(customer: "c1", webhooks: [Webhook(url: "https://z.org/h", events: [])]), live: live, activeTasks: 0)
        #expect(again.changes.jobs.map(\.expiredAt) == [longer] && again.task.expiredAt == longer)
        #expect(again.changes.events.flatMap(\.targets).map(\.url) == ["https://z.org/h"], "only the webhooks the request brought hear it again")
        let shared = try ExportRules.admit(try Self.new(customer: "bob", webhooks: [Webhook(url: "https://b.org/h", events: [])]), live: live, activeTasks: 0)
        #expect(shared.task.status == .completed && shared.task.finishedAt == Self.now && shared.task.estimatedTime == 0)
        #expect(shared.changes.events.map(\.event) == [.taskCompleted] && shared.changes.tasks.map(\.expiredAt) == [longer])
        let atLimit = try ExportRules.admit(try Self.new(customer: "bob", limit: 3), live: live, activeTasks: 3)
        #expect(atLimit.outcome == .sharedJob, "a completed export costs nothing: given at the limit too")
    }

    // MARK: Controls

    @Test(arguments: ExportControl.allCases, TaskStatus.allCases) func everyControlOfEveryStatusIsDecided(action: ExportControl, status: TaskStatus) {
        let allowed: [ExportControl: Set<TaskStatus>] = [
            .pause: [.pending, .inProgress], .resume: [.paused], .abort: [.pending, .inProgress, .paused],
            .archive: [.completed, .failed, .aborted, .expired],
        ]
        let state = Self.state(status)
        let outcome = Result { try ExportRules.control(action, task: state.tasks[0], state: state, now: Self.now) }
        #expect((try? outcome.get()) != nil || !allowed[action]!.contains(status), "\(action) of \(status) must be allowed")
        #expect((try? outcome.get()) == nil || allowed[action]!.contains(status), "\(action) of \(status) must be refused")
    }

    @Test func controlsOfRunningAndSharedExports() throws {
        let running = Self.state(.inProgress)
        let pause = try ExportRules.control(.pause, task: running.tasks[0], state: running, now: Self.now)
        #expect(pause.changes.jobs.map(\.pauseRequested) == [true] && pause.changes.jobs[0].status == .inProgress, "asked at the next checkpoint")
        let abort = try ExportRules.control(.abort, task: running.tasks[0], state: running, now: Self.now)
        #expect(abort.changes.jobs.map(\.abortRequested) == [true] && !abort.deletesArtifacts)
        let pending = try ExportRules.control(.abort, task: Self.state(.pending).tasks[0], state: Self.state(.pending), now: Self.now)
        #expect(pending.changes.jobs.map(\.status) == [.aborted] && pending.deletesArtifacts)
        let resume = try ExportRules.control(.resume, task: Self.state(.paused).tasks[0], state: Self.state(.paused), now: Self.now)
        #expect(resume.changes.jobs.map(\.status) == [.pending] && resume.wakesWorkers)
        let shared = Self.state(.inProgress, tasks: 2)
        #expect(throws: ServiceError.self) { try ExportRules.control(.pause, task: shared.tasks[0], state: shared, now: Self.now) }
        let detached = try ExportRules.control(.abort, task: shared.tasks[0], state: shared, now: Self.now)
        #expect(detached.changes.jobs.isEmpty && detached.changes.tasks.map(\.status) == [.aborted] && detached.changes.tasks[0].isDetached)
    }

    // MARK: Back-off

    @Test func backOffDoublesUpToItsCapTimesTheJitter() {
        let delays = (1...14).map { WebhookDispatcher.backoff(attempt: $0, first: 2, max: 3_600, jitter: 1) }
        #expect(Array(delays.prefix(5)) == [2, 4, 8, 16, 32])
        #expect(delays.last == 3_600 && delays.allSatisfy { $0 <= 3_600 })
        #expect(WebhookDispatcher.backoff(attempt: 3, first: 2, max: 3_600, jitter: 0.5) == 4)
        #expect(WebhookDispatcher.backoff(attempt: 0, first: 2, max: 3_600, jitter: 1) == 2, "attempt 0 is the first delay")
    }

    // MARK: Outbox message

    struct Links: ArtifactLinks {
        func url(for key: String, expires: Date?) -> String { "https://md/downloads/\(key)?e=\(Int(expires?.timeIntervalSince1970 ?? 0))" }
    }

    @Test func theStoredMessageBecomesTheWireBodyWithSignedLinks() throws {
        var task = Self.task(.completed)
        task.artifacts = [Artifact(type: .gpkg, name: "a.gpkg", size: 5, key: "exports/7/a.gpkg", sha256: "ab")]
        task.expiredAt = Self.now.addingTimeInterval(3600)
        let stored = WebhookMessage.stored(task: task, event: .taskCompleted, at: Self.now)
        #expect(!stored.contains("https://md/"))
        let expected = CanonicalJSON.text(
            .object(["event": .string("TASK_COMPLETED"), "timestamp": .string(Timestamp.string(Self.now)), "data": task.json(links: Links())])
        )
        #expect(try WebhookMessage.wire(stored: stored, links: Links()) == expected)
        #expect(try WebhookMessage.wire(stored: expected, links: Links()) == expected, "a body stored whole is sent as it is")
    }
}
