extension PlatformCall where Result == Void {
    /// A write whose 2xx body carries nothing Traffic Police needs (Luma answers `{}`).
    static func acknowledged(_ request: PlatformRequest, classifier: FailureClassifier) -> PlatformCall {
        PlatformCall(request: request) { response in
            guard (200..<300).contains(response.status) else { throw classifier.classify(response) }
        }
    }
}
