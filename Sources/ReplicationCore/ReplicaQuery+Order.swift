import Foundation

extension ReplicaQuery {
    /// The `ORDER BY` and `LIMIT` of a listing, the same on every backend (``ReplicationStore/replicas(_:)``): sequence
    /// order when it follows `afterSequence`, else time (ties by sequence, then id) in the asked direction; with a page,
    /// one row more than its limit, so the caller knows whether a next page exists.
    public var orderAndLimitSQL: String {
        var sql =
            afterSequence != nil
            ? " ORDER BY sequence_number ASC, replica_id ASC"
            : ascending
                ? " ORDER BY timestamp ASC, sequence_number ASC, replica_id ASC" : " ORDER BY timestamp DESC, sequence_number DESC, replica_id DESC"
        if let page { sql += " LIMIT \(page.limit + 1)" }
        return sql
    }
}
