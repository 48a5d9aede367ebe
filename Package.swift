// swift-tools-version: 6.0
import PackageDescription

let package = Package(
    name: "swift-otp",
    products: [
        .library(name: "OTP", targets: ["OTP"]),
        .library(name: "OTPExamples", targets: ["OTPExamples"]),
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
        .target(
            name: "OTPExamples",
            dependencies: ["OTP"],
            path: "Examples"
        ),
        .executableTarget(
            name: "otp-demo",
            dependencies: ["OTP", "OTPExamples"]
        ),
        .testTarget(
            name: "OTPTests",
            dependencies: ["OTP", "OTPExamples", "CLibUV"]
        ),
    ],
    swiftLanguageModes: [.v6]
)
