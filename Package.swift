// swift-tools-version:5.10
import PackageDescription

let package = Package(
    name: "Conflux",
    products: [
        .library(name: "Conflux", targets: ["Conflux"]),
        .library(name: "ConfluxCPU", targets: ["ConfluxCPU"]),
        .library(name: "ConfluxNN", targets: ["ConfluxNN"]),
        .executable(name: "conflux", targets: ["conflux"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0")
    ],
    targets: [
        // MARK: - Libraries
        .target(name: "Conflux"),
        .target(name: "ConfluxCPU", dependencies: ["Conflux", "CBLAS"]),
        .target(name: "ConfluxNN", dependencies: ["Conflux", "CZlib"]),

        // MARK: - System libraries
        .systemLibrary(name: "CBLAS", pkgConfig: "openblas", providers: [.apt(["libopenblas-dev"])]),
        .systemLibrary(name: "CZlib", pkgConfig: "zlib", providers: [.apt(["zlib1g-dev"])]),

        // MARK: - Executables
        .executableTarget(
            name: "conflux",
            dependencies: [
                "Conflux", "ConfluxCPU", "ConfluxNN",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]),
        .executableTarget(
            name: "LeNetBenchmark", dependencies: ["Conflux", "ConfluxCPU", "ConfluxNN"],
            path: "Benchmarks/LeNetBenchmark"),

        // MARK: - Tests
        .target(name: "TestSupport", dependencies: ["Conflux", "ConfluxCPU"], path: "Tests/TestSupport"),
        .testTarget(name: "ConfluxTests", dependencies: ["Conflux", "ConfluxCPU", "TestSupport"]),
        .testTarget(name: "ConfluxCPUTests", dependencies: ["Conflux", "ConfluxCPU", "TestSupport"]),
        .testTarget(name: "ConfluxNNTests", dependencies: ["ConfluxNN", "ConfluxCPU", "TestSupport"]),
        .testTarget(name: "confluxTests", dependencies: ["conflux", "TestSupport"]),
    ]
)
