import Foundation

/// Runs outside reference tools (GDAL, psql, unzip) from tests.
///
/// A child is waited for on a thread of its own, never on one of Swift's cooperative threads: there are as many of
/// those as cores (2 on CI), and a test that blocks one in `waitUntilExit()` for the seconds GDAL takes stalls every
/// other test's timers meanwhile (one way a lease renewal in `ChainLeaseTests` came seconds late).
public enum Shell {
    public struct Result: Sendable {
        public var status: Int32
        public var output: String
        public var error: String
    }

    /// Runs `tool` (looked up on PATH) and throws unless it exits 0.
    @discardableResult
    public static func run(_ tool: String, _ arguments: [String]) async throws -> String {
        let result = try await execute(tool, arguments)
        guard result.status == 0 else {
            throw FixtureError("\(tool) \(arguments.joined(separator: " ")) exited \(result.status): \(result.error)\(result.output)")
        }
        return result.output
    }

    public static func execute(_ tool: String, _ arguments: [String]) async throws -> Result {
        try await OwnThread.run {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            process.arguments = [tool] + arguments
            return try wait(for: process)
        }
    }

    /// Starts `process` with its output and error captured and waits for it on the calling thread: call it
    /// from ``OwnThread/run(_:)``.
    public static func wait(for process: Process) throws -> Result {
        let output = Pipe()
        let error = Pipe()
        process.standardOutput = output
        process.standardError = error
        try process.run()
        let outData = output.fileHandleForReading.readDataToEndOfFile()
        let errData = error.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return Result(
            status: process.terminationStatus,
            output: String(decoding: outData, as: UTF8.self),
            error: String(decoding: errData, as: UTF8.self)
        )
    }
}

/// Blocking work (a child process, a blocking read) from async tests: on a new thread, never on a cooperative one.
public enum OwnThread {
    public static func run<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            Thread { continuation.resume(with: Result { try body() }) }.start()
        }
    }
}

/// The python of the virtual environment `scripts/install-deps` makes, with the PyPI tools (moto, botocore):
/// `MAPDEPOT_TEST_PYTHON`, set by `scripts/test`.
public enum ToolsPython {
    public static var path: String { ProcessInfo.processInfo.environment["MAPDEPOT_TEST_PYTHON"] ?? "python3" }

    /// The environment's `bin` (Schemathesis, openapi-python-client, py3dtiles): beside `MAPDEPOT_TEST_PYTHON`, else `.venv/bin`.
    public static var bin: String {
        ProcessInfo.processInfo.environment["MAPDEPOT_TEST_PYTHON"].map { URL(fileURLWithPath: $0).deletingLastPathComponent().path }
            ?? Fixtures.packageRoot.appendingPathComponent(".venv/bin").path
    }
}

/// GDAL, the field's reference, as a judge of the GeoPackages MapDepot writes.
public enum GDAL {
    /// Debian's own python3, which has the `osgeo` module (a pyenv python3 on PATH may not).
    public static let python = "/usr/bin/python3"

    /// `validate_gpkg.py` from Debian's python3-gdal.
    public static var validator: String {
        let candidates = [
            "/usr/lib/python3/dist-packages/osgeo_utils/samples/validate_gpkg.py",
            "/usr/share/doc/python3-gdal/examples/validate_gpkg.py",
        ]
        return candidates.first { FileManager.default.fileExists(atPath: $0) } ?? candidates[0]
    }

    /// Runs GDAL's GeoPackage validator; returns its complaints (empty when the file is valid).
    public static func validate(_ path: String) async throws -> String {
        let result = try await Shell.execute(python, [validator, path])
        return result.status == 0 ? "" : result.output + result.error
    }

    /// GDAL's validator over many files in one Python process; returns the files with complaints.
    public static func validateMany(_ paths: [String]) async throws -> [String: String] {
        let script = """
            import sys, importlib.util
            spec = importlib.util.spec_from_file_location("validate_gpkg", sys.argv[1])
            module = importlib.util.module_from_spec(spec)
            spec.loader.exec_module(module)
            for path in sys.argv[2:]:
                try:
                    errors = module.check(path, abort_at_first_error=False, warning_msg=False)
                except Exception as error:
                    errors = [str(error)]
                if errors:
                    print("%s\t%s" % (path, " | ".join(str(e) for e in errors)))
            """
        let output = try await Shell.run(python, ["-c", script, validator] + paths)
        var result: [String: String] = [:]
        for line in output.split(separator: "\n") {
            let parts = line.split(separator: "\t", maxSplits: 1)
            if parts.count == 2 { result[String(parts[0])] = String(parts[1]) }
        }
        return result
    }

    /// `gdalinfo` output.
    public static func info(_ path: String) async throws -> String {
        try await Shell.run("gdalinfo", [path])
    }

    /// Every tile of a GeoPackage as GDAL's OGR SQL reads it: "zoom/column/row" → SHA-256 of the blob.
    public static func tileDigests(_ path: String, table: String) async throws -> [String: String] {
        let script = """
            import sys, hashlib
            from osgeo import gdal
            gdal.UseExceptions()
            ds = gdal.OpenEx(sys.argv[1], gdal.OF_RASTER)
            lyr = ds.ExecuteSQL('SELECT zoom_level, tile_column, tile_row, tile_data FROM "%s"' % sys.argv[2])
            for f in lyr:
                print("%d/%d/%d %s" % (f.GetField(0), f.GetField(1), f.GetField(2), hashlib.sha256(f.GetFieldAsBinary(3)).hexdigest()))
            ds.ReleaseResultSet(lyr)
            """
        let output = try await Shell.run(python, ["-c", script, path, table])
        var result: [String: String] = [:]
        for line in output.split(separator: "\n") {
            let parts = line.split(separator: " ")
            if parts.count == 2 { result[String(parts[0])] = String(parts[1]) }
        }
        return result
    }
}

import Crypto

/// Hex SHA-256, to compare tiles with what GDAL reads back.
public func sha256Hex(_ data: Data) -> String {
    SHA256.hash(data: data).map { String(format: "%02x", $0) }.joined()
}
