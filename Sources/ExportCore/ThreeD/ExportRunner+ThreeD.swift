import Foundation
import GeoJSON
import Geometry
import JSONValues
import Logging
import MapDepotCore
import ThreeDTiles

extension ExportRunner {
    /// Domain 3D (issue #13): the tileset's subset that meets the ROI, written out (rewritten tileset JSONs, content
    /// copied byte for byte), zipped as the `3D_MODEL` artifact, with a METADATA JSON beside it. One step: there is no
    /// checkpoint to resume from, so a paused or killed run starts again (the subset is cheap next to the copy).
    func runThreeD(
        record: CatalogRecord, path: String, roi: [ROIFeature], folder: String, createdAt: Date, logger: Logger,
        checkpoint: @Sendable (Checkpoint) async -> Decision
    ) async throws -> Result {
        guard let archiver else { throw ServiceError(.unavailable, "this node cannot write 3D exports (no archiver configured)") }
        let clock = ContinuousClock()
        let started = clock.now
        let source = try ThreeDSource(path: path)
        let subset = try await Offload.run { try source.subset(roi) }
        let planned = clock.now
        let baseName = ["3D", record.productId, record.productVersion.replacingOccurrences(of: ".", with: "_"), Timestamp.fileNameComponent(createdAt)]
            .joined(separator: "_")
        let zipName = baseName + ".zip"
        let zipKey = Self.key(folder: folder, name: zipName)
        let staging = try artifacts.stagingPath(for: zipKey)
        let tree = staging + ".tree"
        logger.info("3D export started", metadata: ["export.tiles": "\(subset.tiles)", "export.files": "\(subset.contents.count)"])
        try await Offload.run {
            try? FileManager.default.removeItem(atPath: tree)
            try subset.write(from: source.files.root, to: tree)
        }
        defer { try? FileManager.default.removeItem(atPath: tree) }
        switch await checkpoint(Checkpoint(progress: 50, batchesDone: 0, tilesDone: subset.tiles, estimatedSeconds: 1)) {
        case .proceed: break
        case .pause: return .paused
        case .abort:
            try await artifacts.delete(prefix: folder)
            return .aborted
        case .relinquish: return .relinquished
        }
        try await Offload.run {
            try? FileManager.default.removeItem(atPath: staging)
            try archiver.archive(directory: tree, to: staging)
        }
        let copied = clock.now
        let published = try await publish(staging: staging, type: .threeDModel, name: zipName, folder: folder) { sha256 in
            Self.threeDMetadata(record: record, roi: roi, subset: subset, packageName: zipName, sha256: sha256)
        }
        logger.info("3D export finished", metadata: ["export.tiles": "\(subset.tiles)", "export.bytes": "\(published[0].size)"])
        return .completed(
            Outcome(
                artifacts: published,
                tilesWritten: subset.tiles, tilesMissing: 0, planSeconds: Self.seconds(planned - started),
                copySeconds: Self.seconds(copied - planned), publishSeconds: Self.seconds(clock.now - copied)
            )
        )
    }

    /// The 3D METADATA: the record's catalog fields, the ROI's area and what the subset holds.
    static func threeDMetadata(record: CatalogRecord, roi: [ROIFeature], subset: TilesetSubset, packageName: String, sha256: String) -> JSONValue {
        let polygons = roi.flatMap(\.polygons)
        var object: [String: JSONValue] = [
            "id": .string(record.id.uuidString.lowercased()),
            "type": .string("RECORD_3D"),
            "productId": .string(record.productId),
            "productName": .string(record.productName),
            "productVersion": .string(record.productVersion),
            "productType": .string(record.productType),
            "footprint": (polygons.count == 1 ? GeoJSONGeometry.polygon(polygons[0]) : .multiPolygon(polygons)).json,
            "tileCount": .number(Double(subset.tiles)),
            "contentFiles": .number(Double(subset.contents.count)),
            "contentBytes": .number(Double(subset.contentBytes)),
            "tilesets": .array(subset.tilesets.keys.sorted().map(JSONValue.string)),
            "packageName": .string(packageName),
            "sha256": .string(sha256),
        ]
        if let bounds = subset.rootBounds {
            object["productBoundingBox"] = .string([bounds.minX, bounds.minY, bounds.maxX, bounds.maxY].map { String($0) }.joined(separator: ","))
        }
        object["description"] = record.description.map(JSONValue.string) ?? .null
        return .object(object)
    }
}

extension ThreeDSource {
    /// Exact: the tiles kept and the bytes of the content they name (the zip adds its headers and the tileset JSONs).
    func estimate(_ roi: [ROIFeature], bytesPerSecond: Double = 200_000_000) throws(ServiceError) -> ExportEstimate {
        let subset = try subset(roi)
        return ExportEstimate(
            tiles: subset.tiles, bytes: subset.contentBytes, seconds: Int64((Double(subset.contentBytes) / bytesPerSecond).rounded(.up)),
            tilesPerZoom: [:]
        )
    }
}
