// swift-tools-version:5.10
import PackageDescription

/// The OpenCL C sources in Kernels/, one per kernel family, embedded into the binary.
let openCLSources = [
    "elementwise.cl", "reduction.cl", "softmax.cl", "pooling.cl", "convolution.cl", "optimizers.cl", "direct.cl",
    "normalization.cl",
]

let package = Package(
    name: "Conflux",
    products: [
        .library(name: "Conflux", targets: ["Conflux"]),
        .library(name: "ConfluxCPU", targets: ["ConfluxCPU"]),
        .library(name: "ConfluxOpenCL", targets: ["ConfluxOpenCL"]),
        .library(name: "ConfluxNN", targets: ["ConfluxNN"]),
        .library(name: "ConfluxONNX", targets: ["ConfluxONNX"]),
        .executable(name: "conflux", targets: ["conflux"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-protobuf", from: "1.28.0"),
    ],
    targets: [
        // MARK: - Libraries
        .target(name: "Conflux"),
        .target(name: "ConfluxCPU", dependencies: ["Conflux", "CBLAS", "CDNNL", "VectorKernels"]),
        .target(name: "VectorKernels", exclude: ["ConvolutionKernels.inc", "DepthwiseKernels.inc", "Table.inc"]),
        .target(name: "ConfluxOpenCL", dependencies: ["Conflux", "COpenCL", "CCLBlast", "Kernels"]),
        .target(name: "Kernels", path: "Kernels", resources: openCLSources.map { .embedInCode($0) }),
        .target(name: "ConfluxNN", dependencies: ["Conflux", "CZlib", "CStb"]),
        .target(
            name: "ConfluxONNX",
            dependencies: ["Conflux", "ConfluxNN", .product(name: "SwiftProtobuf", package: "swift-protobuf")]),
        .target(name: "ConfluxMPI", dependencies: ["Conflux", "CMPI"]),
        .target(
            name: "ConfluxTensorBoard",
            dependencies: ["Conflux", .product(name: "SwiftProtobuf", package: "swift-protobuf")]),

        // MARK: - System libraries
        .systemLibrary(name: "CBLAS", pkgConfig: "openblas", providers: [.apt(["libopenblas-dev"])]),
        .systemLibrary(name: "COpenCL", pkgConfig: "OpenCL", providers: [.apt(["ocl-icd-opencl-dev"])]),
        .systemLibrary(name: "CCLBlast", pkgConfig: "clblast", providers: [.apt(["libclblast-dev"])]),
        .systemLibrary(name: "CZlib", pkgConfig: "zlib", providers: [.apt(["zlib1g-dev"])]),
        .systemLibrary(name: "CStb", pkgConfig: "stb", providers: [.apt(["libstb-dev"])]),
        .systemLibrary(name: "CMPI", pkgConfig: "mpi-c", providers: [.apt(["libopenmpi-dev"])]),
        .systemLibrary(name: "CDNNL", providers: [.apt(["libdnnl-dev"])]),

        // MARK: - Executables
        .executableTarget(
            name: "conflux",
            dependencies: [
                "Conflux", "ConfluxCPU", "ConfluxOpenCL", "ConfluxNN", "ConfluxONNX", "ConfluxTensorBoard",
                "ConfluxMPI",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]),
        .executableTarget(
            name: "LeNetBenchmark", dependencies: ["Conflux", "ConfluxCPU", "ConfluxOpenCL", "ConfluxNN"],
            path: "Benchmarks/LeNetBenchmark"),
        .executableTarget(
            name: "ONNXBenchmark", dependencies: ["Conflux", "ConfluxCPU", "ConfluxOpenCL", "ConfluxONNX"],
            path: "Benchmarks/ONNXBenchmark"),
        .executableTarget(
            name: "TransferOverlapBenchmark", dependencies: ["Conflux", "ConfluxCPU", "ConfluxOpenCL", "ConfluxNN"],
            path: "Benchmarks/TransferOverlap"),

        // MARK: - Tests
        .target(
            name: "TestSupport", dependencies: ["Conflux", "ConfluxCPU", "ConfluxOpenCL"], path: "Tests/TestSupport"),
        .testTarget(name: "ConfluxTests", dependencies: ["Conflux", "ConfluxCPU", "TestSupport"]),
        .testTarget(name: "ConfluxCPUTests", dependencies: ["Conflux", "ConfluxCPU", "TestSupport"]),
        .testTarget(
            name: "ConfluxOpenCLTests", dependencies: ["Conflux", "ConfluxOpenCL", "ConfluxNN", "TestSupport"]),
        .testTarget(name: "ConfluxNNTests", dependencies: ["ConfluxNN", "ConfluxCPU", "TestSupport"]),
        .testTarget(name: "ConfluxTensorBoardTests", dependencies: ["ConfluxTensorBoard", "TestSupport"]),
        .testTarget(name: "ParityTests", dependencies: ["Conflux", "ConfluxCPU", "ConfluxNN", "TestSupport"]),
        .testTarget(name: "ConfluxONNXTests", dependencies: ["ConfluxONNX", "ConfluxNN", "TestSupport"]),
        .testTarget(name: "confluxTests", dependencies: ["conflux", "ConfluxNN", "TestSupport"]),
    ]
)
