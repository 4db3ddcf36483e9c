import GeoJSON

extension BoundingBox {
    /// Whether a geometry shares at least one point with the box (boundaries included): a vertex inside, an edge that
    /// crosses it, or, for polygons, the box inside the polygon's area (issue #14's area filter on deltas).
    public func meets(_ geometry: GeoJSONGeometry) -> Bool {
        switch geometry {
        case .point(let point): return contains(point)
        case .multiPoint(let points): return points.contains(where: contains)
        case .lineString(let line): return meets(line: line)
        case .multiLineString(let lines): return lines.contains(where: meets(line:))
        case .polygon(let polygon): return meets(polygon)
        case .multiPolygon(let polygons): return polygons.contains(where: meets)
        }
    }

    func contains(_ position: Position) -> Bool {
        position.longitude >= minX && position.longitude <= maxX && position.latitude >= minY && position.latitude <= maxY
    }

    private func meets(line: [Position]) -> Bool {
        if line.count == 1 { return contains(line[0]) }
        return zip(line, line.dropFirst()).contains { meets(segment: $0, $1) }
    }

    private func meets(_ polygon: PolygonCoordinates) -> Bool {
        if polygon.rings.contains(where: meets(line:)) { return true }
        // No edge meets the box, so it is wholly inside the area or wholly outside it: its centre tells which.
        let centre = Point((minX + maxX) / 2, (minY + maxY) / 2)
        let ring = { (positions: [Position]) in Ring.open(positions.map { Point($0.longitude, $0.latitude) }) }
        let exterior = ring(polygon.exterior)
        guard !exterior.isEmpty, Ring.contains(exterior, centre) else { return false }
        return !polygon.holes.contains { hole in
            let points = ring(hole)
            return !points.isEmpty && Ring.contains(points, centre)
        }
    }

    /// Liang–Barsky: the part of the segment inside the box is not empty.
    private func meets(segment a: Position, _ b: Position) -> Bool {
        var low = 0.0, high = 1.0
        let dx = b.longitude - a.longitude, dy = b.latitude - a.latitude
        for (p, q) in [(-dx, a.longitude - minX), (dx, maxX - a.longitude), (-dy, a.latitude - minY), (dy, maxY - a.latitude)] {
            if p == 0 {
                if q < 0 { return false }
            } else {
                let t = q / p
                if p < 0 { low = max(low, t) } else { high = min(high, t) }
                if low > high { return false }
            }
        }
        return true
    }
}
