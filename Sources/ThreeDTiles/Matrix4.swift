/// A 4×4 affine transform in 3D Tiles' order: sixteen numbers, column-major (`tile.transform`, 3D Tiles 1.1 §5.4).
public struct Matrix4: Sendable, Hashable {
    /// Column-major: `m[column * 4 + row]`.
    public var m: [Double]

    public static let identity = Matrix4(m: [1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1])

    public init(m: [Double]) {
        precondition(m.count == 16)
        self.m = m
    }

    /// `self × other`: `other` applied first (a child's transform is multiplied on the right of its parent's).
    public static func * (lhs: Matrix4, rhs: Matrix4) -> Matrix4 {
        var result = [Double](repeating: 0, count: 16)
        for column in 0..<4 {
            for row in 0..<4 {
                var sum = 0.0
                for k in 0..<4 { sum += lhs.m[k * 4 + row] * rhs.m[column * 4 + k] }
                result[column * 4 + row] = sum
            }
        }
        return Matrix4(m: result)
    }

    /// A point (w = 1).
    public func apply(_ p: Vector3) -> Vector3 {
        Vector3(
            m[0] * p.x + m[4] * p.y + m[8] * p.z + m[12],
            m[1] * p.x + m[5] * p.y + m[9] * p.z + m[13],
            m[2] * p.x + m[6] * p.y + m[10] * p.z + m[14]
        )
    }
}

public struct Vector3: Sendable, Hashable {
    public var x: Double
    public var y: Double
    public var z: Double

    public init(_ x: Double, _ y: Double, _ z: Double) {
        self.x = x
        self.y = y
        self.z = z
    }

    static func + (a: Vector3, b: Vector3) -> Vector3 { Vector3(a.x + b.x, a.y + b.y, a.z + b.z) }
    static func * (a: Vector3, s: Double) -> Vector3 { Vector3(a.x * s, a.y * s, a.z * s) }
}
