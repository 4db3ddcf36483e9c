import Foundation
import GeoJSON
import HTTPTypes
import Hummingbird
import JSONValues
import MapDepotCore
import NIOCore

/// JSON responses.
enum JSONResponse {
    static func make(_ value: JSONValue, status: HTTPResponse.Status = .ok) -> Response {
        Response(
            status: status,
            headers: [.contentType: "application/json; charset=utf-8"],
            body: .init(byteBuffer: ByteBuffer(string: CanonicalJSON.text(value)))
        )
    }

    static func message(_ message: String, status: HTTPResponse.Status) -> Response {
        make(.object(["message": .string(message)]), status: status)
    }
}
