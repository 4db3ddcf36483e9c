extension Ring {
    /// Rings up to this many points are checked for crossings (the check compares every pair of edges).
    public static let crossingCheckLimit = 2_000

    /// Where an open ring crosses itself: the first point two non-adjacent edges share, or nil for a simple ring (or
    /// one longer than ``crossingCheckLimit``, left to the planner). A "bow tie" ROI used to be refused as having no
    /// intersection with the product's footprint (issue #12); it is refused for what it is.
    public static func crossing(_ ring: [Point]) -> Point? {
        let count = ring.count
        guard count >= 4, count <= crossingCheckLimit else { return nil }
        for i in 0..<count {
            let a = ring[i], b = ring[(i + 1) % count]
            let (minX, maxX, minY, maxY) = (min(a.x, b.x), max(a.x, b.x), min(a.y, b.y), max(a.y, b.y))
            for j in stride(from: i + 2, to: count, by: 1) where !(i == 0 && j == count - 1) {
                let c = ring[j], d = ring[(j + 1) % count]
                guard max(c.x, d.x) >= minX, min(c.x, d.x) <= maxX, max(c.y, d.y) >= minY, min(c.y, d.y) <= maxY else { continue }
                if let point = intersection(a, b, c, d) { return point }
            }
        }
        return nil
    }

    /// The point two segments share (crossing or touching), if any.
    static func intersection(_ a: Point, _ b: Point, _ c: Point, _ d: Point) -> Point? {
        func cross(_ o: Point, _ p: Point, _ q: Point) -> Double { (p.x - o.x) * (q.y - o.y) - (p.y - o.y) * (q.x - o.x) }
        let d1 = cross(c, d, a), d2 = cross(c, d, b), d3 = cross(a, b, c), d4 = cross(a, b, d)
        if ((d1 > 0 && d2 < 0) || (d1 < 0 && d2 > 0)) && ((d3 > 0 && d4 < 0) || (d3 < 0 && d4 > 0)) {
            let t = d1 / (d1 - d2)
            return Point(a.x + t * (b.x - a.x), a.y + t * (b.y - a.y))
        }
        func on(_ p: Point, _ q: Point, _ r: Point) -> Bool {
            min(p.x, q.x) <= r.x && r.x <= max(p.x, q.x) && min(p.y, q.y) <= r.y && r.y <= max(p.y, q.y)
        }
        if d1 == 0 && on(c, d, a) { return a }
        if d2 == 0 && on(c, d, b) { return b }
        if d3 == 0 && on(a, b, c) { return c }
        if d4 == 0 && on(a, b, d) { return d }
        return nil
    }
}
