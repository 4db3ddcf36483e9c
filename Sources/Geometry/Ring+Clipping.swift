extension Ring {
    /// Clips a ring to a rectangle (Sutherland–Hodgman).
    ///
    /// For a simple ring the result's signed area equals the signed area of ring ∩ rectangle exactly (up to
    /// rounding): parts of the ring that leave and re-enter the rectangle are joined along its border by
    /// zero-width "bridges", which add no area. That is all coverage needs, so the bridges are left in.
    public static func clip(_ ring: [Point], to box: BoundingBox) -> [Point] {
        var output = ring
        output = clipEdge(output) { $0.x >= box.minX } intersect: { a, b in
            Point(box.minX, a.y + (b.y - a.y) * (box.minX - a.x) / (b.x - a.x))
        }
        output = clipEdge(output) { $0.x <= box.maxX } intersect: { a, b in
            Point(box.maxX, a.y + (b.y - a.y) * (box.maxX - a.x) / (b.x - a.x))
        }
        output = clipEdge(output) { $0.y >= box.minY } intersect: { a, b in
            Point(a.x + (b.x - a.x) * (box.minY - a.y) / (b.y - a.y), box.minY)
        }
        output = clipEdge(output) { $0.y <= box.maxY } intersect: { a, b in
            Point(a.x + (b.x - a.x) * (box.maxY - a.y) / (b.y - a.y), box.maxY)
        }
        return output
    }

    /// Clips a ring to a convex, counter-clockwise polygon (Sutherland–Hodgman); same area guarantee as
    /// ``clip(_:to:)``.
    public static func clip(_ ring: [Point], toConvex clipper: [Point]) -> [Point] {
        var output = ring
        for index in clipper.indices where !output.isEmpty {
            let a = clipper[index]
            let b = clipper[(index + 1) % clipper.count]
            output = clipEdge(output) { cross(a, b, $0) >= 0 } intersect: { p, q in
                let dp = cross(a, b, p)
                let dq = cross(a, b, q)
                let t = dp / (dp - dq)
                return Point(p.x + (q.x - p.x) * t, p.y + (q.y - p.y) * t)
            }
        }
        return output
    }

    @inline(__always)
    private static func clipEdge(
        _ input: [Point],
        inside: (Point) -> Bool,
        intersect: (Point, Point) -> Point
    ) -> [Point] {
        guard let last = input.last else { return [] }
        var output: [Point] = []
        output.reserveCapacity(input.count + 4)
        var previous = last
        var previousInside = inside(previous)
        for current in input {
            let currentInside = inside(current)
            if currentInside {
                if !previousInside { output.append(intersect(previous, current)) }
                output.append(current)
            } else if previousInside {
                output.append(intersect(previous, current))
            }
            previous = current
            previousInside = currentInside
        }
        return output
    }
}
