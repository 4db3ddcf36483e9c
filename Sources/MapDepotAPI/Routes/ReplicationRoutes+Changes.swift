import Foundation
import GeoJSON
import Hummingbird
import JSONValues
import MapDepotCore
import ReplicationCore

extension ReplicationRoutes {
    /// Features parsed together off the cooperative pool: about a megabyte of GeoJSON.
    static let batchBytes = 1 << 20

    /// A `POST /layers/{id}/changes` body read as it arrives (issue #15: "the 5 MB body limit becomes a streaming
    /// limit per feature, so a large change set streams instead of being refused"), checked against its layer.
    ///
    /// ``ChangeBodySplitter`` cuts the features out of the body as the bytes come; every megabyte of them is parsed and
    /// turned into canonical states on Dispatch's threads while more arrives (two batches at most in flight, one per
    /// core), and only the states are kept: the change set is applied in one transaction, so all of it is held until
    /// then. Limits: `http.max.body.bytes` for each feature and for the rest of the body (`deletes`, `changeId`),
    /// `http.max.change.set.bytes` for the whole (its `Content-Length` is refused before it is read, by
    /// ``BodyLimitHandler``).
    func changeSet(_ request: Request, layer: Layer) async throws -> ChangeSet {
        let http = api.components.config.http
        var splitter = ChangeBodySplitter(maxFeatureBytes: http.maxBodyBytes, maxRestBytes: http.maxBodyBytes)
        var received = 0
        var parsed: [Int: [FeatureState]] = [:]
        try await withThrowingTaskGroup(of: (Int, [FeatureState]).self) { group in
            var inFlight = 0
            func launch(_ batch: (first: Int, features: [[UInt8]])) {
                group.addTask { try await Offload.run { (batch.first, try Self.states(batch, layer: layer)) } }
                inFlight += 1
            }
            for try await buffer in request.body {
                received += buffer.readableBytes
                guard received <= http.maxChangeSetBytes else {
                    throw ServiceError(.payloadTooLarge, "the request body is larger than the limit of \(http.maxChangeSetBytes) bytes for a change set")
                }
                try buffer.withUnsafeReadableBytes { try splitter.feed($0) }
                guard splitter.completedBytes >= Self.batchBytes else { continue }
                if inFlight == 2, let (first, states) = try await group.next() {
                    parsed[first] = states
                    inFlight -= 1
                }
                launch(splitter.take())
            }
            try splitter.finish()
            let last = splitter.take()
            if !last.features.isEmpty { launch(last) }
            for try await (first, states) in group { parsed[first] = states }
        }
        guard received > 0 else { throw ServiceError.invalid("the request body is empty; a JSON object is expected") }
        let rest = splitter.rest
        let streamed = parsed.keys.sorted().flatMap { parsed[$0]! }
        return try await Offload.run {
            let request = try ChangeRequest(json: try APIContext.json(Data(rest)))
            // Features the splitter did not recognise as such (keys spelled with escapes) are in the rest.
            let upserts = streamed.isEmpty ? try ChangeSet.states(of: request.upserts, from: 0, layer: layer) : streamed
            return try ChangeSet(checking: upserts, deletes: request.deletes, changeId: request.changeId)
        }
    }

    /// One batch of features: each parsed from its own bytes, so that a message names `upserts.features[i]`, then
    /// checked against the layer and made canonical.
    static func states(_ batch: (first: Int, features: [[UInt8]]), layer: Layer) throws -> [FeatureState] {
        var features: [Feature] = []
        features.reserveCapacity(batch.features.count)
        for (offset, bytes) in batch.features.enumerated() {
            let path = "upserts.features[\(batch.first + offset)]"
            let feature: Feature
            do {
                feature = try bytes.withUnsafeBytes { try Feature(bytes: $0, path: path) }
            } catch let error as JSONError {
                throw ServiceError.invalid(error.path.isEmpty ? "\(path) is \(error.reason)" : error.description)
            }
            // As APIContext.json refuses U+0000 anywhere in a body: no store of ours keeps it.
            let kept: JSONValue = .object(["id": feature.id ?? .null, "properties": .object(feature.properties ?? [:])])
            if let found = APIContext.nul(in: kept, path: path) {
                throw ServiceError.invalid("\(found) holds the character U+0000, which is not allowed")
            }
            features.append(feature)
        }
        return try ChangeSet.states(of: features, from: batch.first, layer: layer)
    }
}
