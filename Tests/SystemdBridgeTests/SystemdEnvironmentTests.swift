import Testing

/// Every test that changes the process environment lives in a suite nested in this one, so they
/// run one at a time (`.serialized` applies to nested suites too).
@Suite("systemd bridge tests that change the environment", .serialized, .timeLimit(.minutes(1)))
struct SystemdEnvironmentTests {}
