import Foundation
import MapDepotCore

extension ExportService {
    /// Pause, resume, abort and archive (issue #4 parts 3 and 4), owner only.
    ///
    /// A job shared with other customers' tasks is not stopped by one of them: abort detaches the caller's
    /// task (ABORTED for them, the export goes on for the others) and pause is refused with 409.
    public enum Control: String, Sendable {
        case pause, resume, abort, archive
    }

    public func control(_ action: Control, id: Int, customer: String) async throws -> ExportTask {
        let task = try await task(id: id, customer: customer)
        let store = tasks
        let now = clock.now()
        func conflict(_ allowed: String) -> ServiceError {
            ServiceError(.conflict, "task \(id) is \(task.status.rawValue); \(action.rawValue) applies to \(allowed) tasks only")
        }
        let shared = try await store.attachedTasks(jobId: task.jobId).contains { $0.id != task.id }
        switch action {
        case .pause:
            guard [.pending, .inProgress].contains(task.status) else { throw conflict("PENDING or IN_PROGRESS") }
            guard !shared else {
                throw ServiceError(.conflict, "task \(id) shares its export with other requests and cannot be paused; abort detaches it")
            }
            if task.status == .pending {
                try await store.transitionJob(jobId: task.jobId, to: .paused, reason: nil, artifacts: nil, expiresAt: nil, now: now, render: render)
            } else {
                try await store.requestStop(jobId: task.jobId, pause: true, abort: false)
            }
        case .resume:
            guard task.status == .paused else { throw conflict("PAUSED") }
            try await store.transitionJob(jobId: task.jobId, to: .pending, reason: "resumed", artifacts: nil, expiresAt: nil, now: now, render: render)
            workSignal?.notify()
        case .abort:
            guard [.pending, .inProgress, .paused].contains(task.status) else { throw conflict("PENDING, IN_PROGRESS or PAUSED") }
            if shared {
                try await store.transitionTask(id: id, to: .aborted, reason: "aborted by its owner; the shared export continues", now: now, render: render)
            } else if task.status == .inProgress {
                try await store.requestStop(jobId: task.jobId, pause: false, abort: true)
            } else {
                try await store.transitionJob(jobId: task.jobId, to: .aborted, reason: "aborted by its owner", artifacts: nil, expiresAt: nil, now: now, render: render)
                try await artifacts.delete(prefix: ExportJob.folder(id: task.jobId))
            }
        case .archive:
            guard [.completed, .failed, .aborted, .expired].contains(task.status) else { throw conflict("COMPLETED, FAILED, ABORTED or EXPIRED") }
            try await store.transitionTask(id: id, to: .archived, reason: "archived by its owner", now: now, render: render)
        }
        return try await self.task(id: id, customer: customer)
    }
}
