import Crypto
import MapDepotCore
import Foundation
import GRDB

extension SQLiteDatabase {
    /// A random 32-byte secret stored in the database under `name`, made on first use. Kept in the state
    /// database, not a local file, so that every process using this state signs and checks alike.
    public func secret(named name: String) async throws -> Data {
        try await pool.write { db in
            if let hex = try String.fetchOne(db, sql: "SELECT value FROM settings WHERE name = ?", arguments: [name]) {
                return Hex.decode(hex)
            }
            let key = SymmetricKey(size: .bits256).withUnsafeBytes { Data($0) }
            try db.execute(sql: "INSERT INTO settings (name, value) VALUES (?, ?)", arguments: [name, Hex.encode(key)])
            return key
        }
    }
}
