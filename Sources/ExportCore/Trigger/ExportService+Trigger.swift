import Foundation
import GeoJSON
import JSONValues
import MapDepotCore

/// exporter-trigger v3.2.1's API (`POST /export`, `GET /export/{jobId}/status`, `GET /storage`; export-anchors §1.2)
/// over the same jobs as `/export-tasks`: one admission, one dedup, one lifecycle, so a MapColonies deployment can
/// point its callers at MapDepot instead of its trigger (issue #12).
extension ExportService {
    /// Admits a trigger request as the export-management request it stands for.
    public func trigger(_ request: TriggerRequest, customer: String) async throws -> (ExportTask, AdmissionOutcome) {
        let record = try await catalog.record(id: request.dbId)
        return try await create(try request.exportRequest(footprint: record.footprint.json, maxResolutionDeg: record.maxResolutionDeg), customer: customer)
    }

    /// The customer's task behind a trigger job id; any other id is not found.
    public func triggerTask(jobId: String, customer: String) async throws -> ExportTask {
        guard let id = TriggerJobId.taskId(jobId), let task = try await tasks.task(id: id, customer: customer) else {
            throw ServiceError.notFound("job with id \(jobId.lowercased()) was not found")
        }
        return task
    }

    /// `{free, size}` of the artifact store's volume, in bytes.
    public func volume() throws -> (free: Int64, size: Int64) {
        (try artifacts.freeBytes(), try artifacts.capacityBytes())
    }
}
