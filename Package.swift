// swift-tools-version: 6.1
import PackageDescription

let package = Package(
    name: "swift-otp",
    products: [
        .library(name: "OTP", targets: ["OTP"]),
        .library(name: "OTPExamples", targets: ["OTPExamples"]),
        .library(name: "OTPServiceLifecycle", targets: ["OTPServiceLifecycle"]),
        .library(name: "OTPTracing", targets: ["OTPTracing"]),
        .library(name: "OTPTLS", targets: ["OTPTLS"]),
        .executable(name: "otp-demo", targets: ["otp-demo"]),
        .executable(name: "otp-top", targets: ["otp-top"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-log", from: "1.16.0"),
        .package(url: "https://github.com/apple/swift-metrics", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-distributed-tracing", from: "1.7.3"),
        .package(url: "https://github.com/x-sheep/swift-property-based", from: "2.0.1"),
        // `swift package generate-documentation --target OTP` (make docs): the DocC catalog in Sources/OTP/OTP.docc.
        .package(url: "https://github.com/swiftlang/swift-docc-plugin", from: "1.5.0"),
    ],
    targets: [
        .systemLibrary(
            name: "CLibUV",
            pkgConfig: "libuv",
            providers: [.apt(["libuv1-dev"])]
        ),
        .target(
            name: "OTP",
            dependencies: [
                "CLibUV",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "CoreMetrics", package: "swift-metrics"),
            ]
        ),
        .target(
            name: "OTPExamples",
            dependencies: ["OTP"],
            path: "Examples",
            exclude: ["Hosts"]
        ),
        .target(
            name: "OTPServiceLifecycle",
            dependencies: ["OTP", .product(name: "ServiceLifecycle", package: "swift-service-lifecycle")]
        ),
        // Trace context through calls, casts and sends (swift-distributed-tracing), apart from the core.
        .target(
            name: "OTPTracing",
            dependencies: ["OTP", .product(name: "Tracing", package: "swift-distributed-tracing")]
        ),
        // TLS distribution (Erlang's inet_tls_dist) with Debian's OpenSSL 3, apart from the core.
        .systemLibrary(
            name: "COpenSSL",
            pkgConfig: "openssl",
            providers: [.apt(["libssl-dev"])]
        ),
        .target(
            name: "OTPTLS",
            dependencies: ["OTP", "COpenSSL"]
        ),
        .target(
            name: "OTPCAPI",
            dependencies: ["OTP"]
        ),
        .executableTarget(
            name: "otp-demo",
            dependencies: ["OTP", "OTPExamples", .product(name: "Logging", package: "swift-log")]
        ),
        // The live view of a running node (`node.startView()`), refreshing like top.
        .executableTarget(
            name: "otp-top",
            dependencies: ["OTP"]
        ),
        .testTarget(
            name: "OTPTests",
            dependencies: [
                "OTP", "OTPExamples", "OTPServiceLifecycle", "OTPCAPI", "OTPTracing", "OTPTLS", "CLibUV",
                .product(name: "InMemoryTracing", package: "swift-distributed-tracing"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "ServiceLifecycleTestKit", package: "swift-service-lifecycle"),
                .product(name: "PropertyBased", package: "swift-property-based"),
                .product(name: "MetricsTestKit", package: "swift-metrics"),
            ]
        ),
    ],
    swiftLanguageModes: [.v6]
)
