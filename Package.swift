// swift-tools-version: 6.0
import PackageDescription

let package = Package(
    name: "swift-otp",
    products: [
        .library(name: "OTP", targets: ["OTP"]),
        .executable(name: "otp-demo", targets: ["otp-demo"]),
    ],
    targets: [
        .systemLibrary(
            name: "CLibUV",
            pkgConfig: "libuv",
            providers: [.apt(["libuv1-dev"])]
        ),
        .target(
            name: "OTP",
            dependencies: ["CLibUV"]
        ),
        .executableTarget(
            name: "otp-demo",
            dependencies: ["OTP"]
        ),
        .testTarget(
            name: "OTPTests",
            dependencies: ["OTP", "CLibUV"]
        ),
    ],
    swiftLanguageModes: [.v6]
)
