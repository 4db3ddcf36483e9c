import JSONValues
import MapDepotCore

/// What a DEM record says about its values (issue #13; MapColonies' DEM layer metadata, ui-sync-dem-3d-anchors §C3):
/// the cell that holds no value, the unit, the vertical datum, the source's data type and cell size.
public struct ElevationProperties: Sendable, Hashable {
    public enum DataType: String, Sendable, Hashable, CaseIterable {
        case int16 = "INT16"
        case float32 = "FLOAT32"
    }

    public var noDataValue: Double?
    /// `m` unless the record says otherwise.
    public var units: String
    /// e.g. `EGM96` (EPSG:5773), MapColonies' `undulationModel`.
    public var verticalDatum: String?
    public var dataType: DataType
    /// The source's cell size (degrees).
    public var sourceResolutionDeg: Double

    public init(noDataValue: Double?, units: String, verticalDatum: String?, dataType: DataType, sourceResolutionDeg: Double) {
        self.noDataValue = noDataValue
        self.units = units
        self.verticalDatum = verticalDatum
        self.dataType = dataType
        self.sourceResolutionDeg = sourceResolutionDeg
    }

    /// The members a record shows (and stores) beside its catalog fields.
    var members: [String: JSONValue] {
        [
            "noDataValue": noDataValue.map(JSONValue.number) ?? .null, "units": .string(units),
            "verticalDatum": verticalDatum.map(JSONValue.string) ?? .null, "dataType": .string(dataType.rawValue),
            "sourceResolutionDeg": .number(sourceResolutionDeg),
        ]
    }

    static let memberNames: Set<String> = ["noDataValue", "units", "verticalDatum", "dataType", "sourceResolutionDeg"]

    init?(stored reader: JSONObjectReader) throws(ServiceError) {
        guard let dataType = try reader.oneOf("dataType", DataType.self), let resolution = try reader.number("sourceResolutionDeg") else { return nil }
        self.init(
            noDataValue: try reader.number("noDataValue"), units: try reader.string("units") ?? "m", verticalDatum: try reader.string("verticalDatum"),
            dataType: dataType, sourceResolutionDeg: resolution
        )
    }
}
