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
    /// - Throws: ``CorruptRow`` for a list none of our writers produce.
    public static func list(stored text: String) throws -> [ReplicaFile] {
        let corrupt = CorruptRow(table: "replicas", column: "files", value: text)
        guard let values = try? CanonicalJSON.parse(text).arrayValue else { throw corrupt }
        return try values.map { value in
            guard let object = value.objectValue, let key = object["key"]?.stringValue, let size = object["size"]?.numberValue,
                let sha = object["sha256"]?.stringValue, let features = object["features"]?.numberValue,
                let deletions = object["deletions"]?.numberValue
            else { throw corrupt }
            return ReplicaFile(key: key, size: Int64(size), sha256: sha, features: Int(features), deletions: Int(deletions))
        }
    }
}
