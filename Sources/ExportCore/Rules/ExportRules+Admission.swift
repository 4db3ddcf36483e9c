import Foundation
import MapDepotCore

extension ExportRules {
    /// What admission decided: the rows to write and what to tell the client.
    public struct AdmissionPlan: Sendable, Hashable {
        public var outcome: AdmissionOutcome
        public var changes: ExportChanges
        /// The task the request is answered with: an existing one, or ``ExportChanges/newTask`` (id 0 until inserted).
        public var task: ExportTask
    }

    /// Admits a request (SPEC "Deduplication", issue #4 parts 1 and 6), over the live job of its key (locked) and the
    /// customer's count of PENDING, IN_PROGRESS and PAUSED tasks (counted under the customer's admission lock):
    /// - a live job with a task of this customer: that task is the answer, the request's webhooks merged into it; a
    ///   completed job sends TASK_COMPLETED to the webhooks the request brought;
    /// - a live job without one: a new task of this customer shares the job, mirroring its state (TASK_COMPLETED at once
    ///   when it is completed); a share of a job not yet completed is one more active task, so it is refused at the
    ///   customer's limit like a new job (a completed one costs nothing and is always given);
    /// - a completed job either way keeps its artifacts `expiryDays` longer from now (SPEC "Lifecycle");
    /// - no live job: a new PENDING job and task, unless the customer is at its active-task limit (429).
    public static func admit(_ new: NewExportTask, live: JobState?, activeTasks: Int) throws -> AdmissionPlan {
        let now = Timestamp.milliseconds(new.createdAt)
        var changes = ExportChanges()
        guard let live else {
            if let refusal = new.limitRefusal(active: activeTasks) { throw refusal }
            let request = new.request
            changes.newJob = ExportJob(
                id: 0, dedupKey: new.dedupKey, catalogRecordID: request.catalogRecordID, roi: request.roiJSON, status: .pending, progress: 0,
                batchesDone: 0, tilesDone: 0, estimatedTiles: new.estimate.tiles, estimatedSize: new.estimate.bytes,
                estimatedTime: new.estimate.seconds, artifacts: [], errorReason: nil, createdAt: now, updatedAt: now, expiredAt: nil,
                finishedAt: nil, pauseRequested: false, abortRequested: false, lease: nil,
                options: request.domain == .dem ? request.parameters : nil
            )
            let task = newTask(new, jobId: 0, status: .pending, now: now)
            changes.newTask = task
            changes.transitions = [TaskTransition(taskId: 0, from: nil, to: .pending, at: now, reason: nil)]
            return AdmissionPlan(outcome: .queued, changes: changes, task: task)
        }
        var job = live.job
        var attached = live.tasks
        let completed = job.status == .completed
        if completed {
            job.expiredAt = max(job.expiredAt ?? now, now.addingTimeInterval(Double(new.expiryDays) * 86_400))
            job.updatedAt = now
            changes.jobs = [job]
            for index in attached.indices {
                attached[index].expiredAt = job.expiredAt
                attached[index].updatedAt = now
                changes.write(attached[index])
            }
        }
        if var existing = attached.filter({ $0.customer == new.customer }).max(by: { $0.id < $1.id }) {
            existing.webhooks = Webhook.merge(existing.webhooks, new.request.webhooks)
            existing.updatedAt = now
            changes.write(existing)
            if completed { changes.send(.taskCompleted, for: existing, at: now, only: new.request.webhooks) }
            return AdmissionPlan(outcome: .existingTask, changes: changes, task: existing)
        }
        if !completed, let refusal = new.limitRefusal(active: activeTasks) { throw refusal }
        var task = newTask(new, jobId: job.id, status: job.status, now: now)
        task.progress = job.progress
        task.artifacts = job.artifacts
        task.expiredAt = job.expiredAt
        task.finishedAt = completed ? now : nil
        task.estimatedTime = completed ? 0 : new.estimate.seconds
        changes.newTask = task
        changes.transitions = [TaskTransition(taskId: 0, from: nil, to: job.status, at: now, reason: nil)]
        if completed { changes.send(.taskCompleted, for: task, at: now) }
        return AdmissionPlan(outcome: .sharedJob, changes: changes, task: task)
    }

    private static func newTask(_ new: NewExportTask, jobId: Int, status: TaskStatus, now: Date) -> ExportTask {
        let request = new.request
        return ExportTask(
            id: 0, jobId: jobId, usesSingularWebhook: request.usesSingularWebhook, customer: new.customer,
            catalogRecordID: request.catalogRecordID, domain: request.domain, roi: request.roiJSON, artifactCRS: request.artifactCRS,
            description: request.description, keywords: request.keywords, parameters: request.parameters, webhooks: request.webhooks,
            estimatedSize: new.estimate.bytes, estimatedTime: new.estimate.seconds, estimatedTiles: new.estimate.tiles, status: status,
            errorReason: nil, progress: 0, artifacts: [], createdAt: now, updatedAt: now, expiredAt: nil, finishedAt: nil
        )
    }
}

extension ExportRules.AdmissionPlan {
    /// The plan once the store inserted what it creates.
    public func assigning(jobId: Int?, taskId: Int?) -> ExportRules.AdmissionPlan {
        var plan = self
        if let jobId {
            plan.changes = plan.changes.assigning(jobId: jobId)
            if plan.task.jobId == 0 { plan.task.jobId = jobId }
        }
        if let taskId {
            plan.changes = plan.changes.assigning(taskId: taskId)
            if plan.task.id == 0 { plan.task.id = taskId }
        }
        return plan
    }
}
