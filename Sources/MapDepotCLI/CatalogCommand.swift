import ArgumentParser
import ExportCore
import Foundation
import GeoJSON
import JSONValues
import MapDepotAPI
import MapDepotCore

/// `mapdepot catalog add|list`: the same records `POST/GET /catalog/records` manage.
struct CatalogCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "catalog", abstract: "Manage catalog records.", subcommands: [Add.self, List.self]
    )

    /// A record's fields as flags; `--json` takes the `POST /catalog/records` body instead.
    struct RecordOptions: ParsableArguments {
        @Option(help: "A JSON file holding the record, as POST /catalog/records takes it.")
        var json: String?

        @Option(help: "Record id (a UUID; default: a new one).")
        var id: String?

        @Option(help: "Product id (letters, digits, '_' and '-').")
        var productId: String?

        @Option(help: "Product name (default: the product id).")
        var productName: String?

        @Option(help: "Product version (default 1.0).")
        var productVersion: String?

        @Option(help: "Product type, e.g. Orthophoto, RasterMap (default Orthophoto).")
        var productType: String?

        @Option(help: "Description.")
        var description: String?

        @Option(help: "Source type: directory, geopackage, mbtiles, 3dtiles or geotiff (default: from the path, .gpkg, .mbtiles, a tileset .json or a .tif, else directory).")
        var sourceType: String?

        @Option(help: "Source path: a {z}/{x}/{y} directory, a .gpkg or a .mbtiles file, or a 3D Tiles tileset.json.")
        var path: String?

        @Option(help: "Domain: RASTER, 3D or DEM (default: 3D for a 3D Tiles tileset, DEM for a GeoTIFF, else RASTER).")
        var domain: String?

        @Option(help: "Directory row order: xyz (rows from the top) or tms.")
        var scheme: String = "xyz"

        @Option(help: "Directory tile format: png or jpeg.")
        var format: String = "png"

        @Option(help: "GeoPackage tiles table (default: the first).")
        var table: String?

        /// The record draft these options describe.
        func draft() throws -> CatalogRecordDraft {
            if let json {
                let data = try Data(contentsOf: URL(fileURLWithPath: json))
                return try CatalogRecordDraft(json: try JSONValue.parse(data))
            }
            guard let productId else { throw ValidationError("--product-id is required (or --json FILE)") }
            guard let path else { throw ValidationError("--path is required (or --json FILE)") }
            let sourceType = sourceType ?? Self.sourceType(of: path)
            var source: [String: JSONValue] = ["type": .string(sourceType), "path": .string(absolute(path))]
            if sourceType == "directory" {
                source["scheme"] = .string(scheme)
                source["format"] = .string(format)
            }
            if sourceType == "geopackage", let table { source["table"] = .string(table) }
            var body: [String: JSONValue] = ["productId": .string(productId), "source": .object(source)]
            body["domain"] = .string(domain ?? (sourceType == "3dtiles" ? "3D" : sourceType == "geotiff" ? "DEM" : "RASTER"))
            body["id"] = id.map(JSONValue.string)
            body["productName"] = productName.map(JSONValue.string)
            body["productVersion"] = productVersion.map(JSONValue.string)
            body["productType"] = productType.map(JSONValue.string)
            body["description"] = description.map(JSONValue.string)
            return try CatalogRecordDraft(json: .object(body))
        }

        /// What a path most likely holds, by its name (issue #9: `catalog add x.gpkg` said the "source directory" was missing).
        static func sourceType(of path: String) -> String {
            switch (path as NSString).pathExtension.lowercased() {
            case "gpkg": "geopackage"
            case "mbtiles": "mbtiles"
            case "json": "3dtiles"
            case "tif", "tiff": "geotiff"
            default: "directory"
            }
        }

        private func absolute(_ path: String) -> String {
            URL(fileURLWithPath: path).standardizedFileURL.path
        }
    }

    struct Add: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Add a record; prints it as JSON.")

        @OptionGroup var global: GlobalOptions
        @OptionGroup var record: RecordOptions

        func run() async throws {
            let config = try await global.load()
            let components = try await MapDepotComponents.open(config: config, logger: global.logger(config))
            let added = try await components.catalog.add(try record.draft())
            print(try CLIOutput.json(added.json))
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List records: id, product, zooms.")

        @OptionGroup var global: GlobalOptions

        @Flag(help: "Print the records as JSON.")
        var json = false

        func run() async throws {
            let config = try await global.load()
            let components = try await MapDepotComponents.open(config: config, logger: global.logger(config))
            let records = try await components.catalog.records()
            if json {
                print(try CLIOutput.json(.array(records.map(\.json))))
                return
            }
            for record in records {
                let zooms = record.statistics.map(\.zoom)
                print(
                    "\(record.id.uuidString.lowercased())  \(record.productType)/\(record.productId) v\(record.productVersion)  zoom \(zooms.min() ?? 0)–\(zooms.max() ?? 0)  \(record.statistics.reduce(0) { $0 + $1.tiles }) tiles"
                )
            }
        }
    }
}

/// Output helpers for the CLI.
enum CLIOutput {
    static func json(_ value: JSONValue) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes]
        return String(decoding: try encoder.encode(value), as: UTF8.self)
    }
}
