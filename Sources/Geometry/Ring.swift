/// Ring helpers. Rings here are *open*: the closing position of a GeoJSON ring is dropped.
public enum Ring {
    /// Twice-free signed area (shoelace): positive for counter-clockwise rings.
    public static func signedArea(_ ring: [Point]) -> Double {
        guard ring.count >= 3 else { return 0 }
        var sum = 0.0
        var previous = ring[ring.count - 1]
        for point in ring {
            sum += (previous.x - point.x) * (previous.y + point.y)
            previous = point
        }
        return sum / 2
    }

    /// The ring without its closing point and without consecutive duplicates.
    public static func open(_ positions: [Point]) -> [Point] {
        var result: [Point] = []
        result.reserveCapacity(positions.count)
        for point in positions where result.last != point {
            result.append(point)
        }
        if result.count > 1, result.first == result.last { result.removeLast() }
        return result
    }

    /// The ring turned counter-clockwise if it is not already.
    public static func counterClockwise(_ ring: [Point]) -> [Point] {
        signedArea(ring) < 0 ? ring.reversed() : ring
    }

    /// Whether a counter-clockwise ring is convex (collinear vertices allowed).
    public static func isConvex(_ ring: [Point]) -> Bool {
        guard ring.count >= 3 else { return false }
        for index in ring.indices {
            let a = ring[index]
            let b = ring[(index + 1) % ring.count]
            let c = ring[(index + 2) % ring.count]
            if cross(a, b, c) < 0 { return false }
        }
        return true
    }

    /// The z component of (b - a) × (c - a): positive when a, b, c turn left.
    @inline(__always)
    public static func cross(_ a: Point, _ b: Point, _ c: Point) -> Double {
        (b.x - a.x) * (c.y - a.y) - (b.y - a.y) * (c.x - a.x)
    }

    /// Even-odd point-in-ring test (boundary points may go either way).
    public static func contains(_ ring: [Point], _ point: Point) -> Bool {
        var inside = false
        var previous = ring[ring.count - 1]
        for current in ring {
            if (current.y > point.y) != (previous.y > point.y) {
                let x = (previous.x - current.x) * (point.y - current.y) / (previous.y - current.y) + current.x
                if point.x < x { inside.toggle() }
            }
            previous = current
        }
        return inside
    }
}
