// swift-tools-version: 6.1
// The benchmark suite: a separate package so the library's own build and tests stay fast.
//   cd Benchmarks && swift package benchmark
import PackageDescription

let package = Package(
    name: "swift-otp-benchmarks",
    platforms: [.macOS(.v15)],
    dependencies: [
        .package(name: "swift-otp", path: ".."),
        .package(url: "https://github.com/ordo-one/benchmark", from: "1.38.1", traits: ["MallocInterposer"]),
    ],
    targets: [
        // Behaviours and servers shared by the suite and the comparison runner.
        .target(
            name: "Workloads",
            dependencies: [.product(name: "OTP", package: "swift-otp")],
            path: "Workloads"
        ),
        .executableTarget(
            name: "CoreBenchmarks",
            dependencies: [
                "Workloads",
                .product(name: "OTP", package: "swift-otp"),
                .product(name: "Benchmark", package: "benchmark"),
            ],
            path: "Benchmarks/Core",
            plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]
        ),
        // Tools/ holds the executables that are not benchmarks: the plugin of `swift package benchmark` runs
        // every executable whose folder sits directly in this package's folder (named Benchmarks).
        // The swift-otp and Swift-actor side of `make compare` (plain clock, no benchmark framework).
        .executableTarget(
            name: "Compare",
            dependencies: ["Workloads", .product(name: "OTP", package: "swift-otp")],
            path: "Tools/Compare"
        ),
        // `make compare`'s distribution workloads: a swift-otp node serving or calling over loopback.
        .executableTarget(
            name: "DistBench",
            dependencies: [.product(name: "OTP", package: "swift-otp"), .product(name: "OTPTLS", package: "swift-otp")],
            path: "Tools/DistBench"
        ),
        // `make soak`: spawn/exit cycles, a million live servers and timers, facade traffic from many threads.
        .executableTarget(
            name: "Soak",
            dependencies: ["Workloads", .product(name: "OTP", package: "swift-otp")],
            path: "Tools/Soak"
        ),
    ]
)
