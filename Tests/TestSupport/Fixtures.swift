import Foundation
import GeoJSON
import JSONValues
import Synchronization

/// Paths to the real data in `../shared/data` and fixtures derived from it with GDAL.
public enum Fixtures {
    /// The package root (this file is `Tests/TestSupport/Fixtures.swift`).
    public static let packageRoot: URL = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// `shared/data` beside the repository.
    public static let sharedData: URL = packageRoot.deletingLastPathComponent().appendingPathComponent("shared/data")

    /// A fresh empty directory under the system temporary directory, removed when the test process exits
    /// (issue #9: a run left 614 folders, 1.3 GB, behind).
    public static func temporaryDirectory(_ label: String = "test") throws -> String {
        let path = NSTemporaryDirectory() + "mapdepot-\(label)-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        made.withLock { made in
            if made.isEmpty { atexit { Fixtures.removeMade() } }
            made.append(path)
        }
        return path
    }

    /// Every directory ``temporaryDirectory(_:)`` made in this process.
    private static let made = Mutex<[String]>([])

    private static func removeMade() {
        for path in made.withLock({ $0 }) { try? FileManager.default.removeItem(atPath: path) }
    }

    /// Natural Earth 1:110m countries (177 features), read once per process: dozens of tests start at once and each
    /// read them, which was part of the seconds the parallel pass's cooperative threads spent busy at its start.
    public static func countries() throws -> [Feature] {
        try parsedCountries.get()
    }

    private static let parsedCountries = Result { () throws -> [Feature] in
        let data = try Data(contentsOf: sharedData.appendingPathComponent("naturalearth_countries.geojson"))
        return try FeatureCollection(json: try JSONValue.parse(data), path: "countries").features
    }

    /// The country named `name`.
    public static func country(_ name: String) throws -> Feature {
        guard let feature = try countries().first(where: { $0.properties?["name"] == .string(name) }) else {
            throw FixtureError("no country named \(name)")
        }
        return feature
    }

    /// The Blue Marble image as a WorldCRS84Quad pyramid, zoom 0–4, `{z}/{x}/{y}.png` rows from the top,
    /// made with GDAL once per machine (as `shared/data/README.md` describes) and reused.
    public static func blueMarblePyramid() async throws -> String {
        try await pyramid.value
    }

    /// One making per test process, however many tests ask at once (on a fresh machine they all do).
    private static let pyramid = Task { try await makeBlueMarblePyramid() }

    private static func makeBlueMarblePyramid() async throws -> String {
        let root = NSTemporaryDirectory() + "mapdepot-fixtures"
        let final = root + "/bm_tiles"
        if FileManager.default.fileExists(atPath: final + "/4/31/15.png") { return final }
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
        let work = root + "/work-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: work, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: work) }
        let image = sharedData.appendingPathComponent("blue_marble_4326.jpg").path
        try await Shell.run("gdal_translate", ["-q", "-a_srs", "EPSG:4326", "-a_ullr", "-180", "90", "180", "-90", image, work + "/bm.tif"])
        try await Shell.run(
            "gdal2tiles.py", ["-q", "--profile=geodetic", "--tmscompatible", "--xyz", "-z", "0-4", work + "/bm.tif", work + "/tiles"]
        )
        // Another process may have won the race; either result is the same pyramid.
        if rename(work + "/tiles", final) != 0, !FileManager.default.fileExists(atPath: final + "/4/31/15.png") {
            throw FixtureError("could not place the Blue Marble pyramid at \(final)")
        }
        return final
    }
}

public struct FixtureError: Error, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}
