import Foundation

/// libFuzzer's entry point (issue #9 item 7), built by `scripts/fuzz` together with the GeoJSON module's sources and
/// the `Range` parser into one instrumented binary (`-sanitize=fuzzer,address`): bytes from the fuzzer go through the
/// JSON reader, GeoJSON geometry and FeatureCollection decoding, and `Range` header parsing. A crash, a trap or an
/// AddressSanitizer report stops the run with the input that caused it.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOneInput(_ start: UnsafeRawPointer, _ count: Int) -> CInt {
    let data = Data(bytes: start, count: count)
    let text = String(decoding: data, as: UTF8.self)
    for size in [0, 1, count, 1 << 40] {
        if case .partial(let range) = ByteRange.parse(text, size: size), range.lowerBound < 0 || range.upperBound >= size {
            fatalError("range \(range) outside a file of \(size) bytes for \(text.debugDescription)")
        }
    }
    guard let value = try? JSONValue.parse(data) else { return 0 }
    if let geometry = value.objectValue?["geometry"] { _ = try? GeoJSONGeometry(json: geometry, path: "geometry") }
    _ = try? FeatureCollection(json: value, path: "ROI")
    _ = try? Feature(json: value, path: "feature")
    return 0
}
