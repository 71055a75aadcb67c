extension DeliverySpool {
    /// Where the spool lives and how large it may grow.
    public struct Configuration: Sendable, Hashable {
        /// The spool's directory (`[spool] dir`); created with mode 0700 when missing.
        public var directory: String
        /// The largest the spool file may grow; an append past it throws ``SpoolError/full(bytes:limit:)``.
        public var maxBytes: Int
        /// How long the first waiter for an fsync waits for others to append before syncing for all
        /// of them. Zero still batches whoever appended while the previous fsync ran.
        public var groupCommitDelay: Duration

        public init(directory: String, maxBytes: Int = 256 << 20, groupCommitDelay: Duration = .zero) {
            self.directory = directory
            self.maxBytes = maxBytes
            self.groupCommitDelay = groupCommitDelay
        }

        /// The spool file's path: `deliveries.spool` in `directory`.
        public var path: String {
            directory.hasSuffix("/") ? directory + DeliverySpool.fileName : directory + "/" + DeliverySpool.fileName
        }
    }

    /// The name of the one spool file in the directory.
    public static let fileName = "deliveries.spool"
}
