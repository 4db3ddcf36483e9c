// swift-tools-version:6.2
import PackageDescription

/// Our targets only: a new warning fails the build (issue #9: the one warning that said "no 'async' operations
/// occur within 'await' expression" was a server-wide deadlock).
let swiftSettings: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("MemberImportVisibility"),
    .treatAllWarnings(as: .error),
]

let package = Package(
    name: "mapdepot",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "mapdepot", targets: ["MapDepotCLI"]),
        .executable(name: "mapdepot-bench", targets: ["MapDepotBench"]),
    ],
    dependencies: [
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.28.1"),
        .package(url: "https://github.com/groue/GRDB.swift.git", from: "7.10.0"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-configuration.git", from: "1.4.0"),
        .package(url: "https://github.com/apple/swift-crypto.git", from: "4.5.2"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-metrics.git", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.3"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.4.1"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/async-http-client.git", from: "1.37.0"),
        .package(url: "https://github.com/apple/swift-http-types.git", from: "1.8.0"),
        .package(url: "https://github.com/weichsel/ZIPFoundation.git", from: "0.9.20"),
        .package(url: "https://github.com/vapor/postgres-nio.git", from: "1.33.2"),
        .package(url: "https://github.com/x-sheep/swift-property-based.git", from: "2.0.1"),
    ],
    targets: [
        // Pure value libraries: no dependencies. A JSON value and its parser, below GeoJSON (issue #10).
        .target(name: "JSONValues", swiftSettings: swiftSettings),
        .target(name: "GeoJSON", dependencies: ["JSONValues"], swiftSettings: swiftSettings),
        .target(name: "Geometry", dependencies: ["GeoJSON"], swiftSettings: swiftSettings),
        .target(name: "TileGrid", dependencies: ["Geometry"], swiftSettings: swiftSettings),
        // zlib from Debian's zlib1g-dev, for the DEM domain's PNG and TIFF tiles (issue #13).
        .systemLibrary(name: "CMapDepotZlib", pkgConfig: "zlib", providers: [.apt(["zlib1g-dev"])]),
        // libdeflate (issue #15): whole-buffer deflate 2–3× zlib's speed at the same level, and a fast CRC-32, for replica zips.
        .systemLibrary(name: "CMapDepotDeflate", pkgConfig: "libdeflate", providers: [.apt(["libdeflate-dev"])]),
        // Elevation grids: GeoTIFF and gridded-coverage tiles read and written, resampled onto WorldCRS84Quad.
        .target(name: "Raster", dependencies: ["CMapDepotZlib"], swiftSettings: swiftSettings),
        // 3D Tiles: bounding volumes in geographic terms and the subset of a tileset that meets a region (issue #13).
        .target(name: "ThreeDTiles", dependencies: ["Geometry", "JSONValues"], swiftSettings: swiftSettings),
        // OGC GeoPackage tiles writer/reader.
        .target(
            name: "GeoPackage",
            dependencies: [
                "TileGrid", "Geometry", "Raster", .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "GRDBSQLite", package: "GRDB.swift"),
            ],
            swiftSettings: swiftSettings
        ),
        // What both domains share: errors, time, tokens, the artifact store protocol.
        .target(
            name: "MapDepotCore",
            dependencies: [
                "JSONValues", .product(name: "Crypto", package: "swift-crypto"), .product(name: "NIOCore", package: "swift-nio"),
            ],
            swiftSettings: swiftSettings
        ),
        // Export domain: requests, validation, planning, task state machine, store protocols.
        .target(
            name: "ExportCore",
            dependencies: [
                "JSONValues", "MapDepotCore", "GeoJSON", "Geometry", "TileGrid", "GeoPackage", "ThreeDTiles", "Raster",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings
        ),
        // Replication domain: layers, change sets, delta rules, replica production and chains.
        .target(
            name: "ReplicationCore",
            dependencies: [
                "JSONValues", "MapDepotCore", "GeoJSON", "Geometry",
                .product(name: "Logging", package: "swift-log"), .product(name: "Crypto", package: "swift-crypto"),
            ],
            swiftSettings: swiftSettings
        ),
        // The SQLite backend of every store: the embedded, single-process state.
        .target(
            name: "SQLiteStorage",
            dependencies: [
                "ExportCore", "ReplicationCore", "MapDepotCore", "GeoJSON",
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "GRDBSQLite", package: "GRDB.swift"),
                .product(name: "Crypto", package: "swift-crypto"),
            ],
            swiftSettings: swiftSettings
        ),
        // The artifact store on a local directory: staged writes published by rename.
        .target(
            name: "FileStorage",
            dependencies: [
                "MapDepotCore", .product(name: "Crypto", package: "swift-crypto"), .product(name: "NIOPosix", package: "swift-nio"),
            ],
            swiftSettings: swiftSettings
        ),
        // Tile sources an export reads: GeoPackages / MBTiles and directory pyramids.
        .target(
            name: "TileSources",
            dependencies: ["ExportCore", "MapDepotCore", "GeoPackage", "TileGrid", .product(name: "NIOPosix", package: "swift-nio")],
            swiftSettings: swiftSettings
        ),
        // Replica zips (GeoJSON features and deleted ids), written in parallel ranges.
        .target(
            name: "ZipPackaging",
            dependencies: [
                "JSONValues", "ReplicationCore", "ExportCore", "MapDepotCore", "GeoJSON", "CMapDepotDeflate",
                .product(name: "ZIPFoundation", package: "ZIPFoundation"),
            ],
            swiftSettings: swiftSettings
        ),
        // `mapdepot replicate`'s rules and engine (issue #14): cursor, next step, verify, apply one whole replica at a time.
        .target(
            name: "ReplicationClient",
            dependencies: [
                "JSONValues", "ReplicationCore", "MapDepotCore", "GeoJSON", .product(name: "Crypto", package: "swift-crypto"),
            ],
            swiftSettings: swiftSettings
        ),
        // Its adapters: the local copy (a features GeoPackage, a directory of GeoJSON), the server over HTTP, replica zips.
        .target(
            name: "ReplicationMirror",
            dependencies: [
                "ReplicationClient", "ReplicationCore", "MapDepotCore", "JSONValues", "GeoJSON", "GeoPackage",
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "ZIPFoundation", package: "ZIPFoundation"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOFoundationCompat", package: "swift-nio"),
            ],
            swiftSettings: swiftSettings
        ),
        // The PostgreSQL backend of every store: several nodes on one database.
        .target(
            name: "PostgresStorage",
            dependencies: [
                "ExportCore", "ReplicationCore", "MapDepotCore",
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        // The S3-compatible artifact store: SigV4 over AsyncHTTPClient, multipart uploads, pre-signed downloads.
        .target(
            name: "S3Storage",
            dependencies: [
                "MapDepotCore",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ],
            swiftSettings: swiftSettings
        ),
        // HTTP API: translation only, plus the composition root.
        .target(
            name: "MapDepotAPI",
            dependencies: [
                "JSONValues", "ExportCore", "ReplicationCore", "MapDepotCore", "SQLiteStorage", "FileStorage", "TileSources", "ZipPackaging", "PostgresStorage", "S3Storage",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Configuration", package: "swift-configuration"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "Crypto", package: "swift-crypto"),
                "GeoJSON",
            ],
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "MapDepotCLI",
            dependencies: [
                "JSONValues", "MapDepotAPI", "ExportCore", "ReplicationCore", "MapDepotCore", "FileStorage", "TileSources", "ZipPackaging", "GeoJSON", "TileGrid",
                "ReplicationClient", "ReplicationMirror",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Configuration", package: "swift-configuration"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
            ],
            swiftSettings: swiftSettings
        ),
        // The benchmarks: their own executable (issue #10), so that `mapdepot` links only what it serves.
        .executableTarget(
            name: "MapDepotBench",
            dependencies: [
                "JSONValues", "MapDepotAPI", "ExportCore", "ReplicationCore", "MapDepotCore", "S3Storage", "GeoJSON", "Geometry",
                "TileGrid", "GeoPackage", "ReplicationClient", "ReplicationMirror",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "ZIPFoundation", package: "ZIPFoundation"),
            ],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "TestSupport",
            dependencies: ["JSONValues", "GeoJSON", "Geometry", "ThreeDTiles", "Raster", "MapDepotCore", .product(name: "Crypto", package: "swift-crypto")],
            path: "Tests/TestSupport",
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "GeoJSONTests",
            dependencies: ["JSONValues", "GeoJSON", "TestSupport", .product(name: "PropertyBased", package: "swift-property-based")],
            swiftSettings: swiftSettings
        ),
        .testTarget(name: "GeometryTests", dependencies: ["Geometry", "GeoJSON", "TestSupport"], swiftSettings: swiftSettings),
        .testTarget(name: "RasterTests", dependencies: ["Raster", "MapDepotCore", "TestSupport"], swiftSettings: swiftSettings),
        .testTarget(
            name: "ThreeDTilesTests", dependencies: ["ThreeDTiles", "Geometry", "GeoJSON", "JSONValues", "TestSupport"],
            exclude: ["py3dtiles_read.py"],  // run by the test with py3dtiles, not a resource
            swiftSettings: swiftSettings
        ),
        .testTarget(name: "TileGridTests", dependencies: ["JSONValues", "TileGrid", "Geometry", "GeoJSON", "TestSupport"], swiftSettings: swiftSettings),
        .testTarget(
            name: "GeoPackageTests",
            dependencies: [
                "GeoPackage", "GeoJSON", "Geometry", "TileGrid", "Raster", "MapDepotCore", "TestSupport", .product(name: "GRDB", package: "GRDB.swift"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "ExportCoreTests",
            dependencies: [
                "JSONValues", "ExportCore", "FileStorage", "TileSources", "TestSupport", "GeoJSON", "Geometry", "TileGrid", "GeoPackage", "MapDepotCore",
                .product(name: "GRDB", package: "GRDB.swift"), .product(name: "Logging", package: "swift-log"),
                .product(name: "PropertyBased", package: "swift-property-based"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "MapDepotCoreTests",
            dependencies: [
                "JSONValues", "MapDepotCore", "SQLiteStorage", "GeoJSON", "TestSupport", .product(name: "PropertyBased", package: "swift-property-based"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "StorageTests",
            dependencies: [
                "MapDepotCore", "JSONValues", "SQLiteStorage", "FileStorage", "TileSources", "PostgresStorage", "ExportCore", "GeoJSON", "TileGrid", "TestSupport",
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "ReplicationTests",
            dependencies: [
                "JSONValues", "ReplicationCore", "SQLiteStorage", "FileStorage", "ZipPackaging", "PostgresStorage", "MapDepotCore", "GeoJSON", "TestSupport",
                .product(name: "Logging", package: "swift-log"), .product(name: "PropertyBased", package: "swift-property-based"),
                .product(name: "ZIPFoundation", package: "ZIPFoundation"), .product(name: "Crypto", package: "swift-crypto"), "Geometry",
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(name: "ReplicationClientTests", dependencies: ["ReplicationClient", "ReplicationCore", "JSONValues"], swiftSettings: swiftSettings),
        .testTarget(
            name: "S3StorageTests",
            dependencies: [
                "S3Storage", "MapDepotCore", "TestSupport",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "MapDepotAPITests",
            dependencies: [
                "ReplicationCore", "MapDepotCore", "JSONValues", "MapDepotAPI", "ExportCore", "PostgresStorage", "S3Storage", "TestSupport", "GeoJSON", "Geometry", "TileGrid",
                "Raster", "GeoPackage", "ReplicationClient", "ReplicationMirror",
                .product(name: "ZIPFoundation", package: "ZIPFoundation"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Configuration", package: "swift-configuration"),
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ],
            swiftSettings: swiftSettings
        ),
    ]
)
