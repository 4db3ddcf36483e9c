import Foundation
import JSONValues
import ReplicationClient
import ReplicationCore
import Testing

/// What a mirror does with each listed delta (issue #14), case by case, without a server.
@Suite struct SyncRuleTests {
    static let source = UUID()

    static func delta(_ sequence: Int, from: Int?, to: Int?, source: UUID? = SyncRuleTests.source) throws -> RemoteReplica {
        var object: [String: JSONValue] = [
            "replicaType": .string("delta"), "sequenceNumber": .number(Double(sequence)), "timestamp": .string("2026-12-01T10:00:00.000Z"),
        ]
        object["changeSequence"] = to.map { .number(Double($0)) }
        object["fromChangeSequence"] = from.map { .number(Double($0)) }
        object["sourceId"] = source.map { .string($0.uuidString.lowercased()) }
        object["snapshotSequenceNumber"] = .number(1)
        return try RemoteReplica(json: .object(object))
    }

    static let cursor = MirrorCursor(
        layerId: 1, geometryType: .point, sourceId: source, changeSequence: 10, deltaSequence: 4, snapshotSequence: 1, layerHash: nil, replicaTimestamp: nil
    )

    @Test func eachDeltaIsAppliedSkippedRefusedOrAGap() throws {
        #expect(SyncRule.step(cursor: Self.cursor, delta: try Self.delta(5, from: 10, to: 12)) == .apply)
        #expect(SyncRule.step(cursor: Self.cursor, delta: try Self.delta(5, from: 8, to: 10)) == .skip, "covered by the snapshot")
        #expect(SyncRule.step(cursor: Self.cursor, delta: try Self.delta(5, from: nil, to: nil)) == .skip, "a registered replica")
        #expect(SyncRule.step(cursor: Self.cursor, delta: try Self.delta(5, from: 11, to: 12)) == .gap, "history between them is gone")
        #expect(SyncRule.step(cursor: Self.cursor, delta: try Self.delta(5, from: 8, to: 12)) == .gap, "it starts inside the copy's past")
        #expect(SyncRule.step(cursor: Self.cursor, delta: try Self.delta(5, from: 10, to: 12, source: UUID())) == .foreign)
        var fresh = Self.cursor
        fresh.sourceId = nil
        #expect(SyncRule.step(cursor: fresh, delta: try Self.delta(5, from: 10, to: 12, source: UUID())) == .apply, "a copy that never saw a source")
    }

    @Test func theCursorAdvancesByDeltaAndResetsBySnapshot() throws {
        let delta = try Self.delta(5, from: 10, to: 12)
        let advanced = Self.cursor.after(delta)
        #expect(advanced.changeSequence == 12 && advanced.deltaSequence == 5 && advanced.snapshotSequence == 1)
        let snapshot = try RemoteReplica(
            json: .object([
                "replicaType": .string("snapshot"), "sequenceNumber": .number(3), "timestamp": .string("2026-12-01T11:00:00.000Z"),
                "changeSequence": .number(30), "deltaSequenceNumber": .number(9), "layerHash": .string(String(repeating: "a", count: 64)),
            ])
        )
        let reset = advanced.after(snapshot)
        #expect(reset.changeSequence == 30 && reset.deltaSequence == 9 && reset.snapshotSequence == 3 && reset.layerHash == snapshot.layerHash)
        #expect(throws: SyncError.self) { try RemoteReplica(json: .object(["replicaType": .string("delta")])) }
    }

    @Test func exitCodesFollowTheOutcome() {
        #expect(SyncOutcome.upToDate(Self.cursor).exitCode == 0)
        #expect(SyncOutcome.reachedSequence(Self.cursor).exitCode == 0)
        #expect(SyncOutcome.partial(Self.cursor, remaining: 1).exitCode == 1)
        #expect(SyncOutcome.cursorTooOld(Self.cursor, message: "").exitCode == 3)
        #expect(SyncOutcome.errorExitCode == 2)
    }
}
