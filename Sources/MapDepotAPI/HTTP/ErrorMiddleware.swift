import ExportCore
import MapDepotCore
import Foundation
import HTTPTypes
import JSONValues
import Hummingbird
import Logging
import NIOCore

/// The one place errors become HTTP: every failure answers `{ "message": … }` with the status its kind
/// calls for. Unknown errors are logged and answered 500 without internals.
struct ErrorMiddleware<Context: RequestContext>: RouterMiddleware {
    /// Which methods each path is served with: a path asked with another method answers 405 with `Allow`.
    let routes: RouteTable

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch let error as ServiceError {
            var response =
                error.details.isEmpty
                ? JSONResponse.message(error.message, status: Self.status(of: error.kind))
                : JSONResponse.make(.object(error.details.merging(["message": .string(error.message)]) { $1 }), status: Self.status(of: error.kind))
            if let seconds = error.retryAfterSeconds { response.headers[.retryAfter] = "\(seconds)" }
            return response
        } catch let error as NIOTooManyBytesError {
            _ = error
            return JSONResponse.message("the request body is larger than the limit", status: .contentTooLarge)
        } catch let error as HTTPError {
            // The router found no route: a path served with other methods is a 405 (issue #12: TRACE was a 404).
            if error.status == .notFound, error.body == nil, case let allowed = routes.methods(at: request.uri.path), !allowed.isEmpty {
                var response = JSONResponse.message(
                    "method \(request.method) is not allowed on \(request.uri.path); it answers \(allowed.map(\.rawValue).joined(separator: ", "))",
                    status: .methodNotAllowed
                )
                response.headers[.allow] = allowed.map(\.rawValue).joined(separator: ", ")
                return response
            }
            let message = error.body ?? Self.defaultMessage(error.status, request: request)
            return JSONResponse.message(message, status: error.status)
        } catch let error as any HTTPResponseError {
            return JSONResponse.message(Self.defaultMessage(error.status, request: request), status: error.status)
        } catch {
            if let condition = StorageCondition.of(error) {
                context.logger.warning("storage condition", metadata: ["error": "\(error)", "path": "\(request.uri.path)"])
                return Self.response(for: condition)
            }
            context.logger.error("unhandled error", metadata: ["error": "\(error)", "path": "\(request.uri.path)"])
            return JSONResponse.message("internal error", status: .internalServerError)
        }
    }

    /// 503 with `Retry-After` for a busy or unreachable state database, 507 for a full disk.
    static func response(for condition: StorageCondition) -> Response {
        switch condition {
        case .busy:
            var response = JSONResponse.message("the state database is busy; try again in a moment", status: .serviceUnavailable)
            response.headers[.retryAfter] = "1"
            return response
        case .unreachable:
            var response = JSONResponse.message("the state database cannot be reached; try again shortly", status: .serviceUnavailable)
            response.headers[.retryAfter] = "5"
            return response
        case .full:
            return JSONResponse.message(
                "no space is left on the server's storage", status: HTTPResponse.Status(code: 507, reasonPhrase: "Insufficient Storage")
            )
        }
    }


    static func defaultMessage(_ status: HTTPResponse.Status, request: Request) -> String {
        switch status {
        case .notFound: "no route for \(request.method) \(request.uri.path)"
        case .methodNotAllowed: "method \(request.method) is not allowed on \(request.uri.path)"
        default: status.reasonPhrase
        }
    }

    /// ServiceError kinds → HTTP status (SPEC "Errors").
    static func status(of kind: ServiceError.Kind) -> HTTPResponse.Status {
        switch kind {
        case .invalid: .badRequest
        case .unauthenticated: .unauthorized
        case .forbidden: .forbidden
        case .notFound: .notFound
        case .conflict: .conflict
        case .gone: .gone
        case .payloadTooLarge: .contentTooLarge
        case .tooManyTiles: .unprocessableContent
        case .insufficientStorage: HTTPResponse.Status(code: 507, reasonPhrase: "Insufficient Storage")
        case .tooManyRequests: .tooManyRequests
        case .unavailable: .serviceUnavailable
        }
    }
}
