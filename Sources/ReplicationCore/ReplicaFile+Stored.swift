import Foundation
import GeoJSON
import JSONValues
import MapDepotCore

extension ReplicaFile {
    public var storedJSON: JSONValue {
        .object([
            "key": .string(key), "size": .number(Double(size)), "sha256": .string(sha256), "features": .number(Double(features)),
            "deletions": .number(Double(deletions)),
        ])
    }

    public static func storedText(_ files: [ReplicaFile]) -> String {
        CanonicalJSON.text(.array(files.map(\.storedJSON)))
    }

    /// A stored list of files (see ``storedJSON``).
    public static func list(stored text: String) throws -> [ReplicaFile] {
        (try CanonicalJSON.parse(text).arrayValue ?? []).compactMap { value -> ReplicaFile? in
            guard let object = value.objectValue, let key = object["key"]?.stringValue, let size = object["size"]?.numberValue,
                let sha = object["sha256"]?.stringValue
            else { return nil }
            return ReplicaFile(
                key: key, size: Int64(size), sha256: sha, features: Int(object["features"]?.numberValue ?? 0),
                deletions: Int(object["deletions"]?.numberValue ?? 0)
            )
        }
    }
}
