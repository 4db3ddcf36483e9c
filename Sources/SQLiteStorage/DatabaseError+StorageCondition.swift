import GRDB
import MapDepotCore

/// SQLite's busy, locked and full results, as conditions the HTTP layer answers 503 or 507 to.
extension DatabaseError: StorageConditionReporting {
    public var storageCondition: StorageCondition? {
        switch resultCode {
        case .SQLITE_BUSY, .SQLITE_LOCKED: .busy
        case .SQLITE_FULL: .full
        default: nil
        }
    }
}
