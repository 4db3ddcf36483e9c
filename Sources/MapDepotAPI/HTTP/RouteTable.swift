import HTTPTypes
import Synchronization

/// The routes the router holds, as path patterns with their methods, for the one answer the router cannot give: a path
/// MapDepot serves asked with a method it does not answer there is a 405 with `Allow` (RFC 9110 §15.5.6), not a 404
/// (issue #12, found by Schemathesis). Filled once, after every route is registered.
final class RouteTable: Sendable {
    private let entries = Mutex<[(components: [Substring], method: HTTPRequest.Method)]>([])

    /// - Parameter routes: `(path, method)` as Hummingbird describes them (`/export-tasks/{id}/pause`, `/downloads/**`).
    func set(_ routes: [(path: String, method: HTTPRequest.Method)]) {
        entries.withLock { $0 = routes.map { ($0.path.split(separator: "/"), $0.method) } }
    }

    /// The methods served at `path`, empty when no route has its shape. As in the router, the patterns with the most
    /// literal components win (`/export-tasks/estimate` over `/export-tasks/{id}`).
    func methods(at path: String) -> [HTTPRequest.Method] {
        let parts = path.split(separator: "/")
        let candidates = entries.withLock { entries in entries.filter { Self.matches($0.components, parts) } }
        let literals = { (components: [Substring]) in components.filter { !$0.hasPrefix("{") && $0 != "*" && $0 != "**" }.count }
        let best = candidates.map { literals($0.components) }.max() ?? 0
        let matching = candidates.filter { literals($0.components) == best }.map(\.method)
        var seen = Set<String>()
        return matching.filter { seen.insert($0.rawValue).inserted }.sorted { $0.rawValue < $1.rawValue }
    }

    static func matches(_ pattern: [Substring], _ parts: [Substring]) -> Bool {
        for (index, component) in pattern.enumerated() {
            if component == "**" { return parts.count > index }
            guard index < parts.count else { return false }
            if component.hasPrefix("{") || component == "*" { continue }
            if component != parts[index] { return false }
        }
        return pattern.count == parts.count
    }
}
