import GeoJSON

/// A footprint polygon could not be split into convex pieces.
public struct GeometryError: Error, Sendable, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}

extension Region {
    /// The convex decomposition of the positive and negative rings of `polygons`, as signed convex pieces.
    /// - Throws: ``GeometryError`` for a ring that is not simple.
    public static func convexPieces(of polygons: [PolygonCoordinates]) throws -> [SignedRing] {
        let region = Region(polygons: polygons)
        var pieces: [SignedRing] = []
        for ring in region.rings {
            guard let convex = Ring.convexPieces(ring.points) else {
                throw GeometryError("a footprint ring is not a simple polygon (it crosses itself)")
            }
            pieces += convex.map { SignedRing(points: $0, sign: ring.sign) }
        }
        return pieces
    }

    /// self ∩ (Σ sign · convex piece): exact, as a signed-ring region.
    public func intersection(convexPieces pieces: [SignedRing]) -> Region {
        var result: [SignedRing] = []
        for piece in pieces {
            for ring in rings where ring.bounds.intersects(piece.bounds) {
                let clipped = Ring.clip(ring.points, toConvex: piece.points)
                if clipped.count >= 3 {
                    result.append(SignedRing(points: clipped, sign: ring.sign * piece.sign))
                }
            }
        }
        return Region(rings: result)
    }

    /// The region as GeoJSON polygons, for metadata: each positive ring with the negative rings that lie
    /// inside it as holes, rings closed and oriented by the right-hand rule (RFC 7946 §3.1.6). Rings of
    /// no area are dropped.
    public var polygons: [PolygonCoordinates] {
        let significant = rings.filter { abs(Ring.signedArea($0.points)) > 1e-18 }
        let outers = significant.filter { $0.sign > 0 }
        let holes = significant.filter { $0.sign < 0 }
        func closed(_ points: [Point], clockwise: Bool) -> [Position] {
            let oriented = clockwise ? Array(points.reversed()) : points
            return (oriented + [oriented[0]]).map { Position($0.x, $0.y) }
        }
        return outers.map { outer in
            let inner = holes.filter { hole in
                outer.bounds.intersects(hole.bounds) && Ring.contains(outer.points, hole.points[0])
            }
            return PolygonCoordinates(
                rings: [closed(outer.points, clockwise: false)] + inner.map { closed($0.points, clockwise: true) }
            )
        }
    }
}
