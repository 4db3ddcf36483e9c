import Foundation

/// What a mirror does with the next listed delta (issue #14): pure, so every case is tested without a server.
public enum SyncStep: Sendable, Hashable {
    /// It starts exactly at the cursor: apply it.
    case apply
    /// It adds nothing to the copy (a registered replica, or one the copy's snapshot already covers): move past it.
    case skip
    /// It is another source's replica: refuse it.
    case foreign
    /// It starts after the cursor (history between them is gone) or inside the copy's past: it cannot be applied
    /// exactly, so the copy needs a new snapshot.
    case gap
}

public enum SyncRule {
    public static func step(cursor: MirrorCursor, delta: RemoteReplica) -> SyncStep {
        guard let to = delta.changeSequence, let from = delta.fromChangeSequence else { return .skip }
        if let mine = cursor.sourceId, let theirs = delta.sourceId, mine != theirs { return .foreign }
        if to <= cursor.changeSequence { return .skip }
        // A delta that starts before the cursor is not safe to apply over it: a feature created and deleted between its
        // start and the cursor is in neither its upserts nor its deletions, and would stay in the copy.
        return from == cursor.changeSequence ? .apply : .gap
    }
}
