import GeoJSON

/// An area of the plane written as a sum of signed rings: Σ sign · ring.
///
/// A polygon is its exterior (+1) minus its holes (−1). The intersection of a polygon with a convex piece is
/// the same sum with every ring clipped to the piece, so ROI ∩ footprint is exact whatever the shapes, and
/// the area of a region inside a rectangle — the only question tile coverage asks — is the signed sum of
/// clipped ring areas. Rings are open and counter-clockwise.
public struct Region: Sendable {
    public struct SignedRing: Sendable {
        public var points: [Point]
        public var sign: Double
        public var bounds: BoundingBox

        public init(points: [Point], sign: Double) {
            self.points = points
            self.sign = sign
            self.bounds = BoundingBox(points: points) ?? BoundingBox(minX: 0, minY: 0, maxX: 0, maxY: 0)
        }
    }

    public var rings: [SignedRing]

    public init(rings: [SignedRing]) {
        self.rings = rings.filter { $0.points.count >= 3 }
    }

    /// The region of GeoJSON polygons (holes subtract). Polygons of a MultiPolygon must not overlap,
    /// as RFC 7946 and OGC Simple Features require.
    public init(polygons: [PolygonCoordinates]) {
        var rings: [SignedRing] = []
        for polygon in polygons {
            for (index, ring) in polygon.rings.enumerated() {
                let points = Ring.counterClockwise(Ring.open(ring.map { Point($0.longitude, $0.latitude) }))
                rings.append(SignedRing(points: points, sign: index == 0 ? 1 : -1))
            }
        }
        self.init(rings: rings)
    }

    /// The rectangle as a region.
    public init(box: BoundingBox) {
        self.init(rings: [SignedRing(points: box.corners, sign: 1)])
    }

    /// The box around the positive rings, or nil for an empty region.
    public var bounds: BoundingBox? {
        rings.filter { $0.sign > 0 }.map(\.bounds).reduce(nil) { $0?.union($1) ?? $1 }
    }

    /// The region's total area.
    public var area: Double {
        rings.reduce(0) { $0 + $1.sign * Ring.signedArea($1.points) }
    }

    /// The area of the part of the region inside `box`.
    public func area(in box: BoundingBox) -> Double {
        var total = 0.0
        for ring in rings where ring.bounds.intersects(box) {
            total += ring.sign * Ring.signedArea(Ring.clip(ring.points, to: box))
        }
        return total
    }

    /// The region restricted to `box`: every ring clipped to it. Used to hand smaller rings down a quadtree.
    public func clipped(to box: BoundingBox) -> Region {
        Region(
            rings: rings.compactMap { ring in
                guard ring.bounds.intersects(box) else { return nil }
                return SignedRing(points: Ring.clip(ring.points, to: box), sign: ring.sign)
            }
        )
    }
}
