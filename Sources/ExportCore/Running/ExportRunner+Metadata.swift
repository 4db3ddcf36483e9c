import Foundation
import GeoJSON
import Geometry
import JSONValues
import MapDepotCore
import TileGrid

extension ExportRunner {
    /// The METADATA artifact: the record's catalog fields with what was actually exported (SPEC "Artifacts",
    /// export-anchors §4.6): `footprint` = ROI ∩ record footprint, `productBoundingBox` "minX,minY,maxX,maxY",
    /// the exported zooms and resolutions, tile counts and the package's `sha256`.
    static func metadata(
        record: CatalogRecord, plan: ExportPlan, packageName: String, sha256: String, tiles: Int, missing: Int
    ) -> JSONValue {
        let bounds = plan.productBounds
        let footprint: GeoJSONGeometry =
            plan.footprint.count == 1 ? .polygon(plan.footprint[0]) : .multiPolygon(plan.footprint)
        func number(_ value: Double) -> JSONValue { .number(value) }
        let zooms = plan.zooms.filter { !$0.isEmpty }
        var object: [String: JSONValue] = [
            "id": .string(record.id.uuidString.lowercased()),
            "type": .string("RECORD_RASTER"),
            "productId": .string(record.productId),
            "productName": .string(record.productName),
            "productVersion": .string(record.productVersion),
            "productType": .string(record.productType),
            "srs": .string("4326"),
            "srsName": .string("WGS84GEOGRAPHIC"),
            "transparency": .string(record.transparency.rawValue),
            "tileOutputFormat": .string(record.tileOutputFormat.rawValue),
            "tileMimeFormat": .string(record.tileOutputFormat == .png ? "image/png" : "image/jpeg"),
            "footprint": footprint.json,
            "productBoundingBox": .string(
                [bounds.minX, bounds.minY, bounds.maxX, bounds.maxY].map { String($0) }.joined(separator: ",")
            ),
            "minZoom": .number(Double(plan.minZoom)),
            "maxZoom": .number(Double(plan.maxZoom)),
            "maxResolutionDeg": number(WorldCRS84Quad.resolution(plan.maxZoom)),
            "minResolutionDeg": number(WorldCRS84Quad.resolution(plan.minZoom)),
            "maxResolutionMeter": number(CatalogService.meters(zoom: plan.maxZoom)),
            "minResolutionMeter": number(CatalogService.meters(zoom: plan.minZoom)),
            "zoomLevels": .array(
                zooms.map {
                    .object([
                        "zoom": .number(Double($0.zoom)), "tiles": .number(Double($0.tileCount)),
                        "resolutionDeg": number(WorldCRS84Quad.resolution($0.zoom)),
                    ])
                }
            ),
            "tileCount": .number(Double(tiles)),
            "missingTiles": .number(Double(missing)),
            "packageName": .string(packageName),
            "sha256": .string(sha256),
        ]
        object["description"] = record.description.map(JSONValue.string) ?? .null
        return .object(object)
    }

    /// The last step of every export: the staged package published at `folder/name`, then its METADATA JSON beside it
    /// (`<base>.json`, made from the package's SHA-256), both as artifacts in that order.
    func publish(
        staging: String, type: ArtifactType, name: String, folder: String, sha256: String? = nil, metadata: (_ sha256: String) -> JSONValue
    ) async throws -> [Artifact] {
        let key = Self.key(folder: folder, name: name)
        let package = try await artifacts.publish(stagingPath: staging, key: key, sha256: sha256)
        settings.crashPoints.check("publish")
        let metadataName = (name as NSString).deletingPathExtension + ".json"
        let metadataKey = Self.key(folder: folder, name: metadataName)
        let metadataPath = try artifacts.stagingPath(for: metadataKey)
        try Self.encode(metadata(package.sha256)).write(to: URL(fileURLWithPath: metadataPath))
        let metadataFile = try await artifacts.publish(stagingPath: metadataPath, key: metadataKey)
        return [
            Artifact(type: type, name: name, size: package.size, key: key, sha256: package.sha256),
            Artifact(type: .metadata, name: metadataName, size: metadataFile.size, key: metadataKey, sha256: metadataFile.sha256),
        ]
    }

    /// Sorted keys, pretty printed: the same metadata is the same bytes.
    static func encode(_ value: JSONValue) throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes]
        return try encoder.encode(value)
    }
}
