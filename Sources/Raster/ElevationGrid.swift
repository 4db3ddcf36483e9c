/// A single-band grid of values on a north-up geographic grid (DEM domain, issue #13): row-major from the top-left,
/// as GDAL's geotransform describes it. `nodata` cells hold no value.
public struct ElevationGrid: Sendable, Hashable {
    public var width: Int
    public var height: Int
    /// Row-major, `values[row * width + column]`.
    public var values: [Float]
    /// The top-left corner of the top-left cell (degrees).
    public var originX: Double
    public var originY: Double
    /// Cell size (degrees); `pixelY` is positive and rows go south.
    public var pixelX: Double
    public var pixelY: Double
    public var nodata: Float?

    public init(width: Int, height: Int, values: [Float], originX: Double, originY: Double, pixelX: Double, pixelY: Double, nodata: Float?) {
        precondition(values.count == width * height)
        self.width = width
        self.height = height
        self.values = values
        self.originX = originX
        self.originY = originY
        self.pixelX = pixelX
        self.pixelY = pixelY
        self.nodata = nodata
    }

    public subscript(column: Int, row: Int) -> Float { values[row * width + column] }

    /// Whether a value is the grid's nodata.
    public func isNoData(_ value: Float) -> Bool {
        guard let nodata else { return value.isNaN }
        return value == nodata || value.isNaN
    }

    /// The area covered (degrees): west, south, east, north.
    public var bounds: (west: Double, south: Double, east: Double, north: Double) {
        (originX, originY - Double(height) * pixelY, originX + Double(width) * pixelX, originY)
    }
}
