// swift-tools-version:6.1
import PackageDescription

let package = Package(
    name: "latent",
    platforms: [.macOS(.v13)],
    products: [
        .executable(name: "latent", targets: ["latent"]),
        .library(name: "LatentKit", targets: ["PNGIO", "Tensor", "NN", "Models", "Training", "Imaging", "Pipeline", "Render"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
    ],
    targets: [
        // System libraries, found through pkg-config.
        .systemLibrary(
            name: "CLibPNG", path: "Sources/CLibPNG", pkgConfig: "libpng",
            providers: [.apt(["libpng-dev"])]),
        .systemLibrary(
            name: "COpenBLAS", path: "Sources/COpenBLAS", pkgConfig: "openblas",
            providers: [.apt(["libopenblas-dev"])]),

        // The only code that calls libpng (arms setjmp in every exported function).
        .target(
            name: "CPNG", dependencies: ["CLibPNG"], path: "Sources/CPNG",
            cSettings: [.unsafeFlags(["-O2"])]),

        // Fused elementwise kernels (vectorised C, AVX2 clones picked at load time).
        .target(
            name: "CKernels", path: "Sources/CKernels",
            cSettings: [.unsafeFlags(["-O3", "-fno-math-errno", "-fno-trapping-math"])]),

        .target(name: "PNGIO", dependencies: ["CPNG"]),
        .target(name: "Tensor", dependencies: ["COpenBLAS"]),
        .target(name: "NN", dependencies: ["Tensor", "CKernels"]),
        .systemLibrary(name: "CZlib", path: "Sources/CZlib", pkgConfig: "zlib", providers: [.apt(["zlib1g-dev"])]),
        .target(name: "Models", dependencies: ["NN", "Tensor", "CKernels"], resources: [.copy("Builtin")]),
        .target(name: "Training", dependencies: ["Models", "NN", "Tensor", "CKernels", "Imaging", "PNGIO", "Pipeline", "CZlib"]),
        .target(name: "Imaging", dependencies: ["PNGIO"]),
        .target(name: "Pipeline", dependencies: ["PNGIO", "Imaging", "Models", "NN", "Tensor"]),
        .target(name: "Render", dependencies: ["Models", "NN", "Tensor", "Imaging", "PNGIO"]),
        .executableTarget(
            name: "latent",
            dependencies: [
                "PNGIO", "Imaging", "Pipeline", "Tensor", "NN", "Models", "Training", "Render",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]),

        .executableTarget(
            name: "latent-bench",
            dependencies: ["Tensor", "NN", "Models", "Training", "CKernels", .product(name: "ArgumentParser", package: "swift-argument-parser")]),

        // Fuzz targets (see fuzz/README.md): libFuzzer entry points under -DFUZZING, else replayers.
        .target(name: "FuzzSupport"),
        .executableTarget(name: "fuzz-png", dependencies: ["PNGIO", "FuzzSupport"]),
        .executableTarget(name: "fuzz-model", dependencies: ["Models", "NN", "FuzzSupport"]),

        .testTarget(name: "PNGIOTests", dependencies: ["PNGIO", "CPNG"], exclude: ["Fixtures/make_fixtures.py"], resources: [.copy("Fixtures")]),
        .testTarget(name: "TensorTests", dependencies: ["Tensor"]),
        .testTarget(name: "NNTests", dependencies: ["NN", "Tensor", "CKernels"]),
        .testTarget(name: "ModelsTests", dependencies: ["Models", "NN", "Tensor", "Training"]),
        .testTarget(name: "ImagingTests", dependencies: ["Imaging", "PNGIO"]),
        .testTarget(name: "RenderTests", dependencies: ["Render", "Models", "NN", "Tensor", "Imaging", "Training"]),
        .testTarget(name: "PipelineTests", dependencies: ["Pipeline", "Models", "NN", "Imaging", "PNGIO", "Tensor"]),
        .testTarget(name: "CLITests", dependencies: ["latent", "PNGIO"]),
    ],
    swiftLanguageModes: [.v6]
)
