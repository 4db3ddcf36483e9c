import MapDepotCore
import PostgresNIO

/// PostgreSQL that cannot be reached, or refuses connections (a restart, `too many clients`), as 503; a full disk
/// (SQLSTATE 53100) as 507.
extension PSQLError: StorageConditionReporting {
    public var storageCondition: StorageCondition? {
        if let state = serverInfo?[.sqlState] {
            switch state {
            case "53100": return .full
            case "53300", "57P01", "57P02", "57P03", "40001", "40P01", "55P03": return .busy
            default: return nil
            }
        }
        switch code {
        case .connectionError, .serverClosedConnection, .clientClosedConnection, .poolClosed: return .unreachable
        default: return nil
        }
    }
}
