import Foundation
import Geometry
import JSONValues

/// A tile's `boundingVolume` (3D Tiles 1.1 §5.6): exactly one of `region` (west, south, east, north in radians,
/// heights in metres; no transform applies), `box` (centre and three half-axes) or `sphere` (centre, radius), the
/// latter two in the tile's frame.
public enum BoundingVolume: Sendable, Hashable {
    case region(west: Double, south: Double, east: Double, north: Double, minHeight: Double, maxHeight: Double)
    case box([Double])
    case sphere([Double])

    public init(json: JSONValue, path: String) throws(TilesetError) {
        guard let object = json.objectValue else { throw TilesetError("\(path) must be an object") }
        func numbers(_ key: String, _ count: Int) throws(TilesetError) -> [Double]? {
            guard let value = object[key] else { return nil }
            guard let items = value.arrayValue, items.count == count else { throw TilesetError("\(path).\(key) must hold \(count) numbers") }
            var result: [Double] = []
            for item in items {
                guard let number = item.numberValue, number.isFinite else { throw TilesetError("\(path).\(key) must hold \(count) numbers") }
                result.append(number)
            }
            return result
        }
        let found = ["region", "box", "sphere"].filter { object[$0] != nil }
        guard found.count == 1 else { throw TilesetError("\(path) must be exactly one of region, box or sphere") }
        if let r = try numbers("region", 6) {
            self = .region(west: r[0], south: r[1], east: r[2], north: r[3], minHeight: r[4], maxHeight: r[5])
        } else if let b = try numbers("box", 12) {
            self = .box(b)
        } else {
            self = .sphere(try numbers("sphere", 4)!)
        }
    }

    /// What the volume covers on the map (degrees), with `transform` (the product of every transform from the root
    /// down to this tile) applied to boxes and spheres. Conservative: a box's corners, a sphere's enclosing cube; a
    /// volume around the Earth's centre or across the antimeridian covers every longitude.
    public func geographicBounds(transform: Matrix4) -> BoundingBox {
        switch self {
        case .region(let west, let south, let east, let north, _, _):
            let degrees = 180 / Double.pi
            // A region with west > east crosses the antimeridian.
            return west <= east
                ? BoundingBox(minX: west * degrees, minY: south * degrees, maxX: east * degrees, maxY: north * degrees)
                : BoundingBox(minX: -180, minY: south * degrees, maxX: 180, maxY: north * degrees)
        case .box(let b):
            let center = Vector3(b[0], b[1], b[2])
            let axes = [Vector3(b[3], b[4], b[5]), Vector3(b[6], b[7], b[8]), Vector3(b[9], b[10], b[11])]
            return Self.bounds(center: center, axes: axes, transform: transform)
        case .sphere(let s):
            let r = abs(s[3])
            return Self.bounds(center: Vector3(s[0], s[1], s[2]), axes: [Vector3(r, 0, 0), Vector3(0, r, 0), Vector3(0, 0, r)], transform: transform)
        }
    }

    private static func bounds(center: Vector3, axes: [Vector3], transform: Matrix4) -> BoundingBox {
        let c = transform.apply(center)
        let a = axes.map { axis in
            let end = transform.apply(center + axis)
            return Vector3(end.x - c.x, end.y - c.y, end.z - c.z)
        }
        var corners: [Vector3] = []
        for i in [-1.0, 1.0] {
            for j in [-1.0, 1.0] {
                for k in [-1.0, 1.0] { corners.append(c + a[0] * i + a[1] * j + a[2] * k) }
            }
        }
        let world = BoundingBox(minX: -180, minY: -90, maxX: 180, maxY: 90)
        // Where the box meets the polar axis: around the Earth's centre it covers everything; over a pole, every
        // longitude up to that pole.
        let polar = polarAxisInterval(center: c, axes: a)
        if let polar, polar.lowerBound <= 0, polar.upperBound >= 0 { return world }
        let positions = corners.map(Geodetic.longitudeLatitude)
        let longitudes = positions.map(\.longitude)
        var minY = positions.map(\.latitude).min()!
        var maxY = positions.map(\.latitude).max()!
        var minX = longitudes.min()!
        var maxX = longitudes.max()!
        if let polar {
            (minX, maxX) = (-180, 180)
            if polar.upperBound > 0 { maxY = 90 } else { minY = -90 }
        } else if maxX - minX > 180 {
            // Corners on both sides of ±180° (across the antimeridian): every longitude, conservatively.
            (minX, maxX) = (-180, 180)
        }
        return BoundingBox(minX: minX, minY: minY, maxX: maxX, maxY: maxY)
    }

    /// The z values of the polar axis (x = y = 0) inside the box `center ± axes` (orthogonal half-axes), or nil.
    static func polarAxisInterval(center c: Vector3, axes: [Vector3]) -> ClosedRange<Double>? {
        var low = -Double.infinity
        var high = Double.infinity
        for axis in axes {
            let length2 = axis.x * axis.x + axis.y * axis.y + axis.z * axis.z
            guard length2 > 0 else { continue }
            // Local coordinate of (0, 0, z): t(z) = (z·axis.z − c·axis) / |axis|², inside when |t| ≤ 1.
            let offset = c.x * axis.x + c.y * axis.y + c.z * axis.z
            if axis.z == 0 {
                guard abs(offset) <= length2 else { return nil }
            } else {
                let ends = [(offset - length2) / axis.z, (offset + length2) / axis.z]
                low = max(low, ends.min()!)
                high = min(high, ends.max()!)
            }
        }
        return low <= high ? low...high : nil
    }
}

/// A tileset MapDepot cannot read or subset, with where.
public struct TilesetError: Error, Sendable, Hashable, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}
