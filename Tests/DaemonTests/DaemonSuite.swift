import Testing

/// Every test that runs the built daemon. They run one at a time: the daemons would otherwise
/// share the Redis queue (one consumer group) and take each other's jobs.
@Suite(.serialized) enum DaemonSuite {}
