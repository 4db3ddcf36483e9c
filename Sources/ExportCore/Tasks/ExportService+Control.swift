import Foundation
import MapDepotCore

extension ExportService {
    public typealias Control = ExportControl

    /// Pause, resume, abort and archive (issue #4 parts 3 and 4), owner only, as ``ExportRules/control(_:task:state:now:)``
    /// decides under the job's lock.
    public func control(_ action: ExportControl, id: Int, customer: String) async throws -> ExportTask {
        let plan = try await tasks.control(action, taskId: id, customer: customer, now: clock.now())
        if plan.deletesArtifacts, let job = plan.changes.job { try await artifacts.delete(prefix: job.folder) }
        if plan.wakesWorkers { workSignal?.notify() }
        return try await task(id: id, customer: customer)
    }
}
