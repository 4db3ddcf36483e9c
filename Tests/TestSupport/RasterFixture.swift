import Foundation
import Raster

/// The Jacksboro DEM (USGS, 403×344 Int16, EPSG:4326) as our reader reads it, for the DEM domain's tests.
public enum RasterFixture {
    public static func jacksboro() throws -> ElevationGrid {
        let path = Fixtures.sharedData.appendingPathComponent("jacksboro_dem_4326.tif").path
        return try TIFFReader(bytes: Array(try Data(contentsOf: URL(fileURLWithPath: path)))).grid()
    }
}
