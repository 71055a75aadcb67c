import Logging

extension Logger.Metadata {
    /// What one entry carries: the handler's metadata, then the provider's, then the call's own
    /// (later ones win), as both of our handlers merge them.
    static func merged(
        _ handler: Logger.Metadata, provider: Logger.MetadataProvider?, event: Logger.Metadata?
    ) -> Logger.Metadata {
        var merged = handler
        if let provided = provider?.get() { merged.merge(provided) { _, new in new } }
        if let event { merged.merge(event) { _, new in new } }
        return merged
    }
}
