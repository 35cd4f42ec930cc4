// swift-tools-version:6.1
import PackageDescription
import Foundation

// The C kernels are built optimised in debug builds too (the tests run the networks) and without
// errno-setting maths. Those flags are `unsafeFlags`, which would make SwiftPM refuse LatentKit
// as a versioned dependency, so they are added only when building latent itself through make
// (which sets LATENT_DEV=1). A package depending on LatentKit gets SwiftPM's defaults (-O2 in
// release), which compute the same results: the kernels' order of operations is fixed in code.
let dev = ProcessInfo.processInfo.environment["LATENT_DEV"] == "1"
func cFlags(_ flags: [String]) -> [CSetting] { dev ? [.unsafeFlags(flags)] : [] }

let package = Package(
    name: "latent",
    platforms: [.macOS(.v13)],
    products: [
        .executable(name: "latent", targets: ["latent"]),
        .library(name: "LatentKit", targets: ["FileIO", "PNGIO", "Tensor", "NN", "Models", "Imaging", "Inference", "Training", "Pipeline", "Render"]),
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
            cSettings: cFlags(["-O2"])),

        // Fused elementwise kernels (vectorised C, AVX2 clones picked at load time).
        .target(
            name: "CKernels", path: "Sources/CKernels",
            cSettings: cFlags(["-O3", "-fno-math-errno", "-fno-trapping-math"])),

        // O_TMPFILE for atomic outputs (a macro Swift cannot import).
        .target(name: "CFileIO", path: "Sources/CFileIO"),

        // Layers (each module imports only from layers below it; Tests/CLITests/LayeringTests checks it):
        // 0 FileIO, Tensor; 1 PNGIO, NN; 2 Imaging, Models; 3 Inference; 4 Training, Pipeline, Render; 5 the executables.
        .target(name: "FileIO", dependencies: ["CFileIO"], exclude: ["README.md"]),
        .target(name: "PNGIO", dependencies: ["CPNG", "FileIO"], exclude: ["README.md"]),
        .target(name: "Tensor", dependencies: ["COpenBLAS", "CKernels"], exclude: ["README.md"]),
        .target(name: "NN", dependencies: ["Tensor", "CKernels"], exclude: ["README.md"]),
        .systemLibrary(name: "CZlib", path: "Sources/CZlib", pkgConfig: "zlib", providers: [.apt(["zlib1g-dev"])]),
        .target(name: "Models", dependencies: ["NN", "Tensor", "CKernels", "FileIO"], exclude: ["README.md"], resources: [.copy("Builtin")]),
        .target(name: "Imaging", dependencies: ["PNGIO"], exclude: ["README.md"]),
        .target(name: "Inference", dependencies: ["Models", "NN", "Tensor", "CKernels", "Imaging", "PNGIO", "FileIO"], exclude: ["README.md"]),
        .target(name: "Training", dependencies: ["Models", "NN", "Tensor", "CKernels", "Imaging", "PNGIO", "FileIO", "Inference", "CZlib"], exclude: ["README.md"]),
        .target(name: "Pipeline", dependencies: ["PNGIO", "Imaging", "Models", "NN", "Tensor", "FileIO", "Inference"], exclude: ["README.md"]),
        .target(name: "Render", dependencies: ["Models", "NN", "Tensor", "Imaging", "PNGIO", "FileIO"], exclude: ["README.md"]),
        .executableTarget(
            name: "latent",
            dependencies: [
                "FileIO", "PNGIO", "Imaging", "Inference", "Pipeline", "Tensor", "NN", "Models", "Training", "Render",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]),

        .executableTarget(
            name: "latent-bench",
            dependencies: ["FileIO", "Tensor", "NN", "Models", "Imaging", "PNGIO", "Training", "Inference", "CKernels", .product(name: "ArgumentParser", package: "swift-argument-parser")]),

        // Fuzz targets (see fuzz/README.md): libFuzzer entry points under -DFUZZING, else replayers.
        .target(name: "FuzzSupport"),
        .executableTarget(name: "fuzz-png", dependencies: ["PNGIO", "FuzzSupport"]),
        .executableTarget(name: "fuzz-model", dependencies: ["Models", "NN", "FuzzSupport"]),

        // Helpers the test targets share (temporary folders, test images, the CLI runner).
        .target(name: "TestSupport", dependencies: ["PNGIO"], path: "Tests/TestSupport"),
        .testTarget(name: "PNGIOTests", dependencies: ["PNGIO", "CPNG", "TestSupport"], exclude: ["Fixtures/make_fixtures.py", "Fixtures/make_metadata_fixtures.py"], resources: [.copy("Fixtures")]),
        .testTarget(name: "TensorTests", dependencies: ["TestSupport", "Tensor"]),
        .testTarget(name: "NNTests", dependencies: ["TestSupport", "NN", "Tensor", "CKernels"]),
        .testTarget(name: "ModelsTests", dependencies: ["TestSupport", "Models", "NN", "Tensor", "Training", "Inference", "Imaging", "PNGIO"]),
        .testTarget(name: "ImagingTests", dependencies: ["TestSupport", "Imaging", "PNGIO"]),
        .testTarget(name: "RenderTests", dependencies: ["TestSupport", "Render", "Models", "NN", "Tensor", "Imaging", "Training"]),
        .testTarget(name: "PipelineTests", dependencies: ["TestSupport", "Pipeline", "Inference", "FileIO", "Models", "NN", "Imaging", "PNGIO", "Tensor", "CKernels"]),
        .testTarget(name: "CLITests", dependencies: ["latent", "PNGIO", "Tensor", "TestSupport"], exclude: ["Golden"]),
    ],
    swiftLanguageModes: [.v6]
)
