import Crypto
import Foundation
import GRDB

extension SQLiteDatabase {
    /// A random 32-byte secret stored in the database under `name`, made on first use. Kept in the state
    /// database, not a local file, so that every process using this state signs and checks alike.
    public func secret(named name: String) throws -> Data {
        try pool.write { db in
            if let hex = try String.fetchOne(db, sql: "SELECT value FROM settings WHERE name = ?", arguments: [name]) {
                return Data(hex: hex)
            }
            let key = SymmetricKey(size: .bits256).withUnsafeBytes { Data($0) }
            try db.execute(sql: "INSERT INTO settings (name, value) VALUES (?, ?)", arguments: [name, key.map { String(format: "%02x", $0) }.joined()])
            return key
        }
    }
}

extension Data {
    /// Bytes from lowercase or uppercase hex; invalid pairs are skipped.
    init(hex: String) {
        var bytes: [UInt8] = []
        var index = hex.startIndex
        while index < hex.endIndex, let next = hex.index(index, offsetBy: 2, limitedBy: hex.endIndex) {
            if let byte = UInt8(hex[index..<next], radix: 16) { bytes.append(byte) }
            index = next
        }
        self.init(bytes)
    }
}
