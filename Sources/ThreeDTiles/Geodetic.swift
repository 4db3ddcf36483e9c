import Foundation

/// WGS84 Earth-centred, Earth-fixed coordinates to longitude and latitude: the frame 3D Tiles' `box` and `sphere`
/// volumes end up in once every `transform` down the tree is applied (3D Tiles 1.1 §5.2, "coordinate reference system").
public enum Geodetic {
    static let a = 6_378_137.0
    static let f = 1 / 298.257223563
    static let b = a * (1 - f)
    static let e2 = f * (2 - f)
    static let ep2 = (a * a - b * b) / (b * b)

    /// Degrees; Bowring's formula, well under a millimetre for points near the surface.
    public static func longitudeLatitude(_ p: Vector3) -> (longitude: Double, latitude: Double) {
        let longitude = atan2(p.y, p.x)
        let r = (p.x * p.x + p.y * p.y).squareRoot()
        let theta = atan2(p.z * a, r * b)
        let latitude = atan2(p.z + ep2 * b * pow(sin(theta), 3), r - e2 * a * pow(cos(theta), 3))
        return (longitude * 180 / .pi, latitude * 180 / .pi)
    }

    /// ECEF of a geodetic position (degrees, metres above the ellipsoid).
    public static func ecef(longitude: Double, latitude: Double, height: Double) -> Vector3 {
        let lon = longitude * .pi / 180
        let lat = latitude * .pi / 180
        let n = a / (1 - e2 * sin(lat) * sin(lat)).squareRoot()
        return Vector3((n + height) * cos(lat) * cos(lon), (n + height) * cos(lat) * sin(lon), (n * (1 - e2) + height) * sin(lat))
    }
}
