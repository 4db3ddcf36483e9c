/// Where a product's tiles live (SPEC "Catalog": `source`).
public enum TileSourceDescriptor: Sendable, Hashable {
    /// Row order of a `{z}/{x}/{y}` directory: XYZ counts rows from the top, TMS from the bottom.
    public enum RowScheme: String, Sendable, Codable, CaseIterable {
        case xyz
        case tms
    }

    /// File extension of a directory's tiles.
    public enum ImageFormat: String, Sendable, Codable, CaseIterable {
        case png
        case jpeg
        /// Float32 TIFF tiles: a DEM's pyramid (domain DEM only, issue #13).
        case tiff

        public var fileExtension: String {
            switch self {
            case .png: "png"
            case .jpeg: "jpg"
            case .tiff: "tif"
            }
        }
    }

    /// `{path}/{z}/{x}/{y}.{png|jpg}`.
    case directory(path: String, scheme: RowScheme, format: ImageFormat)
    /// A tiles table of a GeoPackage in the WorldCRS84Quad grid; nil table = the first tiles table.
    case geopackage(path: String, table: String?)
    /// An MBTiles file whose tiles are in the WorldCRS84Quad grid (TMS rows, as MBTiles has them).
    case mbtiles(path: String)
    /// A 3D Tiles 1.0/1.1 tileset: its `tileset.json`, content and external tilesets beside it (domain 3D, issue #13).
    case tileset(path: String)
    /// A single-band GeoTIFF DEM in EPSG:4326 (domain DEM, issue #13).
    case geotiff(path: String)

    public var path: String {
        switch self {
        case .directory(let path, _, _), .geopackage(let path, _), .mbtiles(let path), .tileset(let path), .geotiff(let path): path
        }
    }
}
