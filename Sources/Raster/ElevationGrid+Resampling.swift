/// How a target cell takes its value from the source grid (the MapColonies export UI's `resampleMethod`).
public enum Resampling: String, Sendable, Hashable, CaseIterable {
    /// The source cell the target cell's centre falls in: exact values.
    case nearest
    /// The four source cells around the centre, weighted by distance; where any of them is nodata, nearest
    /// (nodata never leaks into a value, ui-sync-dem-3d-anchors §C2).
    case bilinear
}

extension ElevationGrid {
    /// The value at a point (degrees), or nil outside the grid or on nodata.
    public func value(longitude: Double, latitude: Double, resampling: Resampling) -> Float? {
        let x = (longitude - originX) / pixelX
        let y = (originY - latitude) / pixelY
        guard x >= 0, y >= 0, x < Double(width), y < Double(height) else { return nil }
        let column = min(width - 1, Int(x))
        let row = min(height - 1, Int(y))
        let nearest = self[column, row]
        guard !isNoData(nearest) else { return nil }
        guard resampling == .bilinear else { return nearest }
        // Cell centres are at integer + 0.5.
        let fx = x - 0.5
        let fy = y - 0.5
        let c0 = max(0, min(width - 1, Int(fx.rounded(.down))))
        let r0 = max(0, min(height - 1, Int(fy.rounded(.down))))
        let c1 = min(width - 1, c0 + 1)
        let r1 = min(height - 1, r0 + 1)
        let corners = [self[c0, r0], self[c1, r0], self[c0, r1], self[c1, r1]]
        guard !corners.contains(where: isNoData) else { return nearest }
        let tx = max(0, min(1, fx - Double(c0)))
        let ty = max(0, min(1, fy - Double(r0)))
        let top = Double(corners[0]) * (1 - tx) + Double(corners[1]) * tx
        let bottom = Double(corners[2]) * (1 - tx) + Double(corners[3]) * tx
        return Float(top * (1 - ty) + bottom * ty)
    }

    /// A `size`×`size` block of a north-up target grid whose top-left corner is (`west`, `north`) and whose cells are
    /// `resolution` degrees, sampled at cell centres; nil cells are outside the source or nodata.
    public func block(west: Double, north: Double, resolution: Double, size: Int, resampling: Resampling) -> [Float?] {
        var result = [Float?](repeating: nil, count: size * size)
        for row in 0..<size {
            let latitude = north - (Double(row) + 0.5) * resolution
            for column in 0..<size {
                result[row * size + column] = value(longitude: west + (Double(column) + 0.5) * resolution, latitude: latitude, resampling: resampling)
            }
        }
        return result
    }
}

/// Per-tile statistics of the values present (`gpkg_2d_gridded_tile_ancillary` min, max, mean, std_dev).
public struct TileStatistics: Sendable, Hashable {
    public var min: Double
    public var max: Double
    public var mean: Double
    public var standardDeviation: Double

    /// Nil when no value is present.
    public init?(_ values: [Float?]) {
        var count = 0.0, sum = 0.0, squares = 0.0
        var low = Double.infinity, high = -Double.infinity
        for case let value? in values {
            let v = Double(value)
            count += 1
            sum += v
            squares += v * v
            low = Swift.min(low, v)
            high = Swift.max(high, v)
        }
        guard count > 0 else { return nil }
        min = low
        max = high
        mean = sum / count
        standardDeviation = Swift.max(0, squares / count - mean * mean).squareRoot()
    }
}
