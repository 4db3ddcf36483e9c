import Foundation

/// Why a sync stopped with an error; the local copy is then as it was after its last whole replica.
public enum SyncError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The server keeps no history back to the local cursor (its 410, or a delta that does not start at the cursor).
    case cursorTooOld(String)
    /// A replica of another server's layer (``MirrorCursor/sourceId``), or a local copy of another layer.
    case foreignSource(String)
    /// A downloaded file's size or SHA-256 differs from what the server listed.
    case corruptDownload(String)
    /// The copy's layer hash after a replica differs from the server's: the replica was rolled back.
    case hashMismatch(String)
    /// The server answered something this client cannot use.
    case protocolViolation(String)
    /// The server refused or failed a request.
    case server(status: Int, message: String)

    public var description: String {
        switch self {
        case .cursorTooOld(let text), .foreignSource(let text), .corruptDownload(let text), .hashMismatch(let text), .protocolViolation(let text):
            text
        case .server(let status, let message): "the server answered \(status): \(message)"
        }
    }
}
