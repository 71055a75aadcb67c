// swift-tools-version:6.1
import PackageDescription

/// Settings every Swift target shares: Swift 6 language mode (strict concurrency) and explicit `any`.
let swiftSettings: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny")
]

let package = Package(
    name: "TrafficPolice",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "traffic-police", targets: ["TrafficPoliceCLI"]),
        .executable(name: "reservation-bench", targets: ["ReservationBenchmark"]),
        .executable(name: "platform-sim", targets: ["PlatformSimCLI"]),
        .library(name: "PlatformSimulator", targets: ["PlatformSimulator"]),
        .library(name: "TrafficPoliceCore", targets: ["TrafficPoliceCore"]),
        .library(name: "TrafficPolice", targets: ["TrafficPolice"]),
        .library(name: "PlatformClients", targets: ["PlatformClients"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/LebJe/TOMLKit.git", from: "0.6.0"),
        .package(url: "https://github.com/x-sheep/swift-property-based.git", from: "2.0.1"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-metrics.git", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.4.1"),
        .package(url: "https://github.com/apple/swift-crypto.git", from: "3.12.3"),
    ],
    targets: [
        // MARK: C libraries (Debian -dev packages) and the one C shim for libcurl's variadic calls.
        .systemLibrary(name: "CHiredis", pkgConfig: "hiredis", providers: [.apt(["libhiredis-dev"])]),
        .systemLibrary(name: "CLibPQ", pkgConfig: "libpq", providers: [.apt(["libpq-dev"])]),
        .systemLibrary(name: "CCurl", pkgConfig: "libcurl", providers: [.apt(["libcurl4-openssl-dev"])]),
        .systemLibrary(name: "CSystemd", pkgConfig: "libsystemd", providers: [.apt(["libsystemd-dev"])]),
        .target(name: "CCurlShim", dependencies: ["CCurl"]),

        // MARK: One Swift bridge per C library. Blocking calls run on dedicated threads.
        .target(
            name: "RedisBridge",
            dependencies: ["CHiredis", .product(name: "NIOPosix", package: "swift-nio")],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "PostgresBridge",
            dependencies: ["CLibPQ", .product(name: "NIOPosix", package: "swift-nio")],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "CurlBridge",
            dependencies: ["CCurl", "CCurlShim", .product(name: "NIOPosix", package: "swift-nio")],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "SystemdBridge",
            dependencies: ["CSystemd"],
            swiftSettings: swiftSettings
        ),

        // MARK: The pure core: domain and capacity policy, no I/O.
        .target(name: "TrafficPoliceCore", swiftSettings: swiftSettings),

        // MARK: Typed clients for Eventbrite v3, Luma and Meetup GraphQL over CurlBridge.
        .target(name: "PlatformClients", dependencies: ["CurlBridge", "TrafficPoliceCore"], swiftSettings: swiftSettings),

        // MARK: The parts of DESIGN.md that do I/O (reservation scripts, ledger, config).
        .target(
            name: "TrafficPolice",
            dependencies: [
                "TrafficPoliceCore", "RedisBridge", "PostgresBridge", "SystemdBridge", "CurlBridge", "PlatformClients",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "TOMLKit", package: "TOMLKit"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ],
            swiftSettings: swiftSettings
        ),

        // MARK: Executables: the CLI only parses arguments and wires parts together.
        .executableTarget(
            name: "TrafficPoliceCLI",
            dependencies: [
                "TrafficPolice", "TrafficPoliceCore",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "ReservationBenchmark",
            dependencies: [
                "TrafficPolice", "TrafficPoliceCore", "RedisBridge",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "Crypto", package: "swift-crypto"),
            ],
            swiftSettings: swiftSettings
        ),

        // MARK: The platform simulator: Eventbrite, Luma and Meetup on loopback (independent of the code under test).
        .target(
            name: "PlatformSimulator",
            dependencies: [
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "PlatformSimCLI",
            dependencies: [
                "PlatformSimulator",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),

        // MARK: Tests (Swift Testing; bridges and integration run against real servers).
        .testTarget(
            name: "TrafficPoliceCoreTests",
            dependencies: ["TrafficPoliceCore", .product(name: "PropertyBased", package: "swift-property-based")],
            swiftSettings: swiftSettings
        ),
        .testTarget(name: "RedisBridgeTests", dependencies: ["RedisBridge"], swiftSettings: swiftSettings),
        .testTarget(name: "PostgresBridgeTests", dependencies: ["PostgresBridge"], swiftSettings: swiftSettings),
        .testTarget(
            name: "CurlBridgeTests",
            dependencies: [
                "CurlBridge",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "PlatformClientsTests",
            dependencies: [
                "PlatformClients", "CurlBridge", "TrafficPoliceCore",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(name: "SystemdBridgeTests", dependencies: ["SystemdBridge"], swiftSettings: swiftSettings),
        .testTarget(
            name: "TrafficPoliceTests",
            dependencies: [
                "TrafficPolice", "TrafficPoliceCore", "RedisBridge", "PostgresBridge", "PlatformClients", "CurlBridge",
                // Tests drive the platform simulator in-process through its control API.
                "PlatformSimulator",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "DaemonTests",
            dependencies: ["TrafficPoliceCore", "PostgresBridge", .product(name: "Crypto", package: "swift-crypto")],
            swiftSettings: swiftSettings
        ),
        .testTarget(name: "CLITests", dependencies: ["TrafficPoliceCore", "PostgresBridge"], swiftSettings: swiftSettings),
        .testTarget(
            name: "PlatformIntegrationTests",
            dependencies: ["PlatformClients", "PlatformSimulator", "CurlBridge", "TrafficPoliceCore"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "PlatformSimulatorTests",
            dependencies: [
                "PlatformSimulator",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "Crypto", package: "swift-crypto"),
            ],
            swiftSettings: swiftSettings
        ),
    ]
)
