extension Ring {
    /// Splits a counter-clockwise simple ring into convex pieces whose interiors do not overlap and whose
    /// union is the ring: the ring itself when it is convex, else its ear-clipping triangles.
    ///
    /// Convex pieces are what ``Ring/clip(_:toConvex:)`` can intersect with exactly, so any footprint can be
    /// intersected with any ROI without a general polygon-clipping algorithm.
    /// - Returns: nil when no ear can be found (a self-intersecting ring).
    public static func convexPieces(_ ring: [Point]) -> [[Point]]? {
        let ring = removingCollinear(ring)
        guard ring.count >= 3 else { return [] }
        if isConvex(ring) { return [ring] }
        var indices = Array(ring.indices)
        var triangles: [[Point]] = []
        triangles.reserveCapacity(ring.count - 2)
        var guardCounter = 0
        var index = 0
        while indices.count > 3 {
            if guardCounter > indices.count { return nil }
            let count = indices.count
            let ia = indices[(index + count - 1) % count]
            let ib = indices[index % count]
            let ic = indices[(index + 1) % count]
            if isEar(ring, ia, ib, ic, indices) {
                triangles.append([ring[ia], ring[ib], ring[ic]])
                indices.remove(at: index % count)
                guardCounter = 0
                index = index % indices.count
            } else {
                index = (index + 1) % count
                guardCounter += 1
            }
        }
        let last = indices.map { ring[$0] }
        if abs(signedArea(last)) > 0 { triangles.append(last) }
        return triangles
    }

    private static func isEar(_ ring: [Point], _ ia: Int, _ ib: Int, _ ic: Int, _ indices: [Int]) -> Bool {
        let a = ring[ia]
        let b = ring[ib]
        let c = ring[ic]
        guard cross(a, b, c) > 0 else { return false }
        for other in indices where other != ia && other != ib && other != ic {
            let p = ring[other]
            if p == a || p == b || p == c { continue }
            if cross(a, b, p) >= 0 && cross(b, c, p) >= 0 && cross(c, a, p) >= 0 { return false }
        }
        return true
    }

    private static func removingCollinear(_ ring: [Point]) -> [Point] {
        var points = ring
        var changed = true
        while changed && points.count >= 3 {
            changed = false
            var index = 0
            while index < points.count && points.count >= 3 {
                let a = points[(index + points.count - 1) % points.count]
                let b = points[index]
                let c = points[(index + 1) % points.count]
                if cross(a, b, c) == 0 {
                    points.remove(at: index)
                    changed = true
                } else {
                    index += 1
                }
            }
        }
        return points
    }
}
