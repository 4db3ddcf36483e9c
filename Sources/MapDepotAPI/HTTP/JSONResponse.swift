import Foundation
import GeoJSON
import HTTPTypes
import Hummingbird
import NIOCore

/// JSON responses.
enum JSONResponse {
    static func make(_ value: JSONValue, status: HTTPResponse.Status = .ok) -> Response {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        let data = (try? encoder.encode(value)) ?? Data("null".utf8)
        return Response(
            status: status,
            headers: [.contentType: "application/json; charset=utf-8"],
            body: .init(byteBuffer: ByteBuffer(bytes: data))
        )
    }

    static func message(_ message: String, status: HTTPResponse.Status) -> Response {
        make(.object(["message": .string(message)]), status: status)
    }
}
