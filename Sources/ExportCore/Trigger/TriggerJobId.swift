import Foundation

/// exporter-trigger names jobs by UUID (`jobId`, `format: uuid`); MapDepot's tasks are numbered. A trigger job id is
/// the task's number in a fixed UUID form, `00000000-0000-4000-8000-<12 hex digits>`: valid for any UUID parser,
/// reversible without a lookup table, and a task keeps one id in both APIs. It is no secret: tasks are per customer,
/// and another customer's id is not found (issue #12).
public enum TriggerJobId {
    static let prefix = "00000000-0000-4000-8000-"

    public static func string(taskId: Int) -> String {
        let hex = String(taskId, radix: 16)
        return prefix + String(repeating: "0", count: max(0, 12 - hex.count)) + hex
    }

    /// The task number, or nil for a UUID this server never gave out.
    public static func taskId(_ text: String) -> Int? {
        let lowered = text.lowercased()
        guard lowered.hasPrefix(prefix), lowered.utf8.count == 36 else { return nil }
        return Int(lowered.dropFirst(prefix.count), radix: 16)
    }
}
