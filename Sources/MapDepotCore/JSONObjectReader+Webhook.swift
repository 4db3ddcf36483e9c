import Foundation

extension JSONObjectReader {
    /// A webhook's target: an absolute http or https URL (export webhooks, layer subscriptions).
    public func webhookURL(_ key: String) throws(ServiceError) -> String {
        let url = try requiredString(key)
        guard let parsed = URL(string: url), let scheme = parsed.scheme?.lowercased(), ["http", "https"].contains(scheme), parsed.host != nil else {
            throw .invalid("\(name(key)) must be an absolute http or https URL, found \"\(url)\"")
        }
        return url
    }

    /// A webhook's signing secret, when given: 16 to 256 characters.
    public func webhookSecret(_ key: String) throws(ServiceError) -> String? {
        let secret = try string(key)
        if let secret, !(16...256).contains(secret.count) { throw .invalid("\(name(key)) must be 16 to 256 characters") }
        return secret
    }
}
