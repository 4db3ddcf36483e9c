import Foundation
import MapDepotCore

/// Where a page of `GET /replica` starts (issue #14 item 3): the last replica of the page before, in the listing's own
/// order — (timestamp, sequence number, id) for time order, (sequence number, id) when following sequences. Opaque to
/// clients: base64url of its fields.
public struct ReplicaCursor: Sendable, Hashable {
    public var timestamp: Date
    public var sequenceNumber: Int
    public var replicaId: UUID

    public init(timestamp: Date, sequenceNumber: Int, replicaId: UUID) {
        self.timestamp = timestamp
        self.sequenceNumber = sequenceNumber
        self.replicaId = replicaId
    }

    public init(_ replica: Replica) {
        self.init(timestamp: replica.timestamp, sequenceNumber: replica.sequenceNumber, replicaId: replica.replicaId)
    }

    public var text: String {
        let raw = "\(Timestamp.string(timestamp))|\(sequenceNumber)|\(replicaId.uuidString.lowercased())"
        return Base64URL.encode(Data(raw.utf8))
    }

    public init?(text: String) {
        guard text.count <= 200, let data = Base64URL.decode(text), let raw = String(data: data, encoding: .utf8) else { return nil }
        let parts = raw.split(separator: "|", omittingEmptySubsequences: false).map(String.init)
        guard parts.count == 3, let timestamp = Timestamp.parse(parts[0]), let sequence = Int(parts[1]), sequence >= 0,
            let id = UUID(uuidString: parts[2])
        else { return nil }
        self.init(timestamp: timestamp, sequenceNumber: sequence, replicaId: id)
    }
}

/// A page of a listing: at most `limit` replicas after `after`.
public struct ReplicaPage: Sendable, Hashable {
    public static let defaultLimit = 100
    public static let maxLimit = 1000

    public var limit: Int
    public var after: ReplicaCursor?

    public init(limit: Int, after: ReplicaCursor?) {
        self.limit = limit
        self.after = after
    }
}
