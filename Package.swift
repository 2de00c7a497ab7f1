// swift-tools-version:6.0
// MLServe: a model-serving node with two warm slots, its controller and its benchmark harness.
// No package dependencies by design: the toolchain and the system libsqlite3 only.
import PackageDescription

// The codec, the kernels (and training the built-ins) and the importers' parsers are the suite's
// hot spots: optimised even in debug builds, which keeps `swift test` quick. Tests still use
// `@testable import` (debug builds keep -enable-testing); release builds are unchanged.
let optimisedInDebug: [SwiftSetting] = [.unsafeFlags(["-O"], .when(configuration: .debug))]

let package = Package(
    name: "MLServe",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "mlserve", targets: ["mlserve"]),
        .executable(name: "mlctl", targets: ["mlctl"]),
        .executable(name: "mlbench", targets: ["mlbench"]),
    ],
    targets: [
        // C shims: epoll and accept4 are not exported by Glibc's Swift overlay.
        .target(name: "CEpoll", path: "Sources/CEpoll"),
        // System library: links the distribution's libsqlite3.
        .systemLibrary(name: "CSQLite", path: "Sources/CSQLite"),
        // The event-loop core: epoll with a built-in wake-up, named loop threads.
        .target(name: "MLEventCore", dependencies: ["CEpoll"]),

        // Pure wire codec: no sockets, no clocks, no globals.
        .target(name: "MLWire", swiftSettings: optimisedInDebug),
        // Artifacts, checksums, inference kernels, the two slots.
        .target(name: "MLModel", dependencies: ["MLWire"], swiftSettings: optimisedInDebug),
        // Native importers for XGBoost (JSON, UBJSON) and LightGBM (text) model files.
        .target(name: "MLImport", dependencies: ["MLModel", "MLWire"], swiftSettings: optimisedInDebug),
        // Event loops, connections, dispatch, metrics, admin HTTP, state file.
        .target(name: "MLServer", dependencies: ["MLWire", "MLModel", "MLEventCore", "CEpoll"]),
        // Blocking and pipelined clients.
        .target(name: "MLClient", dependencies: ["MLWire"]),
        // The command-line scanner the three executables share.
        .target(name: "MLCommandLine"),
        // Tooling around a node: starting a child mlserve for the demo, the harness and tests.
        .target(name: "MLTooling", dependencies: ["MLClient"]),
        // A small DNS client (UDP, TCP on truncation; A, AAAA, SRV) for fleet discovery.
        .target(name: "MLDiscovery"),
        // Runbook rules, watch loop, SQLite store, fleet operations, notifications.
        .target(name: "MLControl", dependencies: ["MLClient", "MLWire", "MLModel", "MLDiscovery", "CSQLite"]),

        .executableTarget(name: "mlserve", dependencies: ["MLServer", "MLModel", "MLWire", "MLCommandLine"]),
        .executableTarget(name: "mlctl", dependencies: ["MLControl", "MLClient", "MLModel", "MLImport", "MLWire", "MLCommandLine", "MLTooling", "MLDiscovery"]),
        .executableTarget(name: "mlbench", dependencies: ["MLClient", "MLWire", "MLModel", "MLEventCore", "CEpoll", "MLCommandLine", "MLTooling"]),

        .testTarget(name: "MLWireTests", dependencies: ["MLWire"]),
        .testTarget(name: "MLEventCoreTests", dependencies: ["MLEventCore"]),
        .testTarget(name: "MLModelTests", dependencies: ["MLModel", "MLWire"]),
        .testTarget(name: "MLImportTests", dependencies: ["MLImport", "MLModel", "MLTooling"],
                    exclude: ["Fixtures"]),
        .testTarget(name: "MLServerTests", dependencies: ["MLServer", "MLClient", "MLImport", "MLModel", "MLWire", "MLTooling", "CEpoll"]),
        .testTarget(name: "MLControlTests", dependencies: ["MLControl", "MLClient", "MLServer", "MLModel", "MLWire", "MLTooling", "MLDiscovery", "CSQLite"]),
        .testTarget(name: "MLDiscoveryTests", dependencies: ["MLDiscovery"]),
    ]
)
