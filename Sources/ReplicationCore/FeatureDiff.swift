import Foundation
import GeoJSON
import JSONValues
import MapDepotCore

/// The `diff` member of a delta feature (replication README): whether the geometry changed and which
/// property keys were added, removed or changed value, against the feature's state at the delta's start.
public struct FeatureDiff: Sendable, Hashable {
    public var isGeometryChanged: Bool
    public var changedTags: [String]

    public init(isGeometryChanged: Bool, changedTags: [String]) {
        self.isGeometryChanged = isGeometryChanged
        self.changedTags = changedTags
    }

    public var text: String {
        CanonicalJSON.text(
            .object([
                "isGeometryChanged": .bool(isGeometryChanged), "changedTags": .array(changedTags.map(JSONValue.string)),
            ])
        )
    }
}

/// What a delta says about one feature.
public enum DeltaEntry: Sendable, Hashable {
    /// Created or modified in the window: written with its diff.
    case upsert(FeatureState, FeatureDiff)
    /// Alive at the window's start, gone (or moved to another geometry type) at its end.
    case delete(String)
}

/// The delta rules for one feature of one geometry type (issue #3 part 4).
public enum DeltaRule {
    /// - Parameters:
    ///   - before: the feature's state at T1 when alive and of `type`, else nil.
    ///   - after: its state at T2 when alive and of `type`, else nil.
    /// - Returns: nil when the feature appears nowhere: created and deleted inside the window, or
    ///   modified and restored to its T1 state.
    public static func entry(before: FeatureState?, after: FeatureState?) throws -> DeltaEntry? {
        switch (before, after) {
        case (nil, nil):
            return nil
        case (let old?, nil):
            return .delete(old.id)
        case (nil, let new?):
            let keys = try properties(new.properties).keys.sorted()
            return .upsert(new, FeatureDiff(isGeometryChanged: true, changedTags: keys))
        case (let old?, let new?):
            if old.geometry == new.geometry && old.properties == new.properties { return nil }
            let oldTags = try properties(old.properties)
            let newTags = try properties(new.properties)
            let changed = Set(oldTags.keys).union(newTags.keys).filter { oldTags[$0] != newTags[$0] }.sorted()
            return .upsert(new, FeatureDiff(isGeometryChanged: old.geometry != new.geometry, changedTags: changed))
        }
    }

    static func properties(_ text: String) throws -> [String: JSONValue] {
        try JSONValue.parse(Data(text.utf8)).objectValue ?? [:]
    }
}
