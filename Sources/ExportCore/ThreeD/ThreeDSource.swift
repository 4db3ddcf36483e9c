import Foundation
import GeoJSON
import Geometry
import MapDepotCore
import ThreeDTiles

/// A 3D record's tileset on this node (domain 3D, issue #13): the directory of its `tileset.json`, read only inside it.
struct ThreeDSource: Sendable {
    let files: DirectoryTilesetFiles
    /// The root tileset's file name inside ``files``.
    let root: String

    init(path: String) throws(ServiceError) {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), !isDirectory.boolValue else {
            throw ServiceError.invalid("source \(path) is not a tileset file (the path of a tileset.json)")
        }
        files = DirectoryTilesetFiles(root: (path as NSString).deletingLastPathComponent)
        root = (path as NSString).lastPathComponent
    }

    /// The subset that meets the ROI (blocking file reads: run it off the cooperative pool).
    func subset(_ roi: [ROIFeature]) throws(ServiceError) -> TilesetSubset {
        let region = Region(polygons: roi.flatMap(\.polygons))
        do {
            return try TilesetSubset.make(root: root, files: files, region: region)
        } catch let error as TilesetError {
            if error.description == "the tileset's root does not meet the region" {
                throw ServiceError.invalid("the ROI has no intersection with the 3D tileset's tiles")
            }
            throw ServiceError.invalid("tileset: \(error)")
        } catch {
            throw ServiceError.invalid("tileset: \(error)")
        }
    }

    /// What the root tile covers on the map, for a record without a footprint.
    func footprint() throws(ServiceError) -> GeoJSONGeometry {
        let whole = try subset([ROIFeature(polygons: [PolygonCoordinates(rectangle: BoundingBox(minX: -180, minY: -90, maxX: 180, maxY: 90))])])
        guard let bounds = whole.rootBounds else { throw ServiceError.invalid("tileset: the root tile has no bounding volume") }
        return .polygon(PolygonCoordinates(rectangle: bounds))
    }
}

extension CatalogService {
    /// A 3D record: its tileset must be read whole; the footprint, when not given, is its root tile's area. It has no
    /// zooms: `maxResolutionDeg` stays as given, else zoom 0's.
    func describeTileset(_ draft: CatalogRecordDraft, path: String) async throws -> CatalogRecord {
        guard draft.domain == .threeD else {
            throw ServiceError.invalid("source \(path) is a 3D Tiles tileset: the record's domain must be \"3D\", found \"\(draft.domain.rawValue)\"")
        }
        let source = try ThreeDSource(path: path)
        let measured = try await Offload.run { try source.footprint() }
        let footprint = draft.footprint ?? measured
        let maxResolutionDeg = draft.maxResolutionDeg ?? 0.703125
        return CatalogRecord(
            id: draft.id ?? UUID(), productId: draft.productId, productName: draft.productName, productVersion: draft.productVersion,
            productType: draft.productType, domain: .threeD, footprint: footprint, maxResolutionDeg: maxResolutionDeg,
            maxResolutionMeter: draft.maxResolutionMeter, tileOutputFormat: draft.tileOutputFormat ?? .png,
            transparency: draft.transparency ?? .transparent, description: draft.description, source: draft.source, statistics: [],
            createdAt: clock.now()
        )
    }
}
