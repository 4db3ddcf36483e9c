import Crypto
import MapDepotCore
import ExportCore
import Foundation

/// Artifact URLs (issue #4 part 8): `…/downloads/<key>?expires=<unix>&signature=<hex HMAC-SHA256>` over
/// "GET\n/downloads/<key>\n<expires>", so that v1.5 clients, which download the task's `url` without a token,
/// keep working, while nothing about a link can be guessed or extended. The plain path without a signature
/// still needs the owner's token.
struct SignedLinks: ArtifactLinks {
    let baseURL: String
    let key: SymmetricKey

    func url(for artifactKey: String, expires: Date?) -> String {
        let path = "/downloads/\(artifactKey)"
        guard let expires else { return baseURL + path }
        let seconds = Int(expires.timeIntervalSince1970)
        return baseURL + path + "?expires=\(seconds)&signature=\(signature(path: path, expires: seconds))"
    }

    func signature(path: String, expires: Int) -> String {
        Hex.encode(HMAC<SHA256>.authenticationCode(for: Data("GET\n\(path)\n\(expires)".utf8), using: key))
    }

    /// Whether a signed link is genuine and not expired at `now`.
    func verify(path: String, expires: String?, signature: String?, now: Date) -> Bool {
        guard let expires, let seconds = Int(expires), let signature, Double(seconds) >= now.timeIntervalSince1970 else { return false }
        let expected = Data(self.signature(path: path, expires: seconds).utf8)
        let given = Data(signature.lowercased().utf8)
        guard expected.count == given.count else { return false }
        return zip(expected, given).reduce(UInt8(0)) { $0 | ($1.0 ^ $1.1) } == 0
    }
}
