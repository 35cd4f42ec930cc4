import CZlib
import Foundation
import Imaging
import PNGIO
import Tensor
import FileIO

/// Why a dataset could not be loaded.
public enum DatasetError: Error, Equatable, CustomStringConvertible {
    case missing(path: String)
    case badIDX(file: String, reason: String)
    case empty(path: String, reason: String)
    case mismatch(reason: String)

    public var description: String {
        switch self {
        case .missing(let p): return "\(p): no such file or folder"
        case .badIDX(let f, let r): return "\(f): not a usable IDX file: \(r)"
        case .empty(let p, let r): return "\(p): \(r)"
        case .mismatch(let r): return r
        }
    }
}

/// Images as rows of Floats in [0, 1]: `count` rows of `width·height·channels` values
/// (channel-major planes for colour), in memory.
public struct Dataset: Sendable {
    public var width: Int
    public var height: Int
    public var channels: Int
    public var data: [Float]
    public var labels: [UInt8]?

    public init(width: Int, height: Int, channels: Int, data: [Float], labels: [UInt8]? = nil) {
        precondition(data.count % (width * height * channels) == 0, "dataset size mismatch")
        self.width = width
        self.height = height
        self.channels = channels
        self.data = data
        self.labels = labels
    }

    public var dim: Int { width * height * channels }
    public var count: Int { data.count / dim }

    /// The first `n` images.
    public func prefix(_ n: Int) -> Dataset {
        let k = min(n, count)
        return Dataset(width: width, height: height, channels: channels, data: Array(data[0..<(k * dim)]),
                       labels: labels.map { Array($0.prefix(k)) })
    }

    /// Splits off a held-out fraction, chosen by a seeded shuffle: (train, validation).
    public func split(validation fraction: Double, seed: UInt64) -> (Dataset, Dataset) {
        let nVal = max(1, min(count - 1, Int((Double(count) * fraction).rounded())))
        var order = Array(0..<count)
        var rng = RandomGenerator(seed: seed ^ 0x5EED_5EED)
        order.shuffle(using: &rng)
        func take(_ idx: ArraySlice<Int>) -> Dataset {
            var d = [Float]()
            d.reserveCapacity(idx.count * dim)
            for i in idx { d.append(contentsOf: data[(i * dim)..<((i + 1) * dim)]) }
            return Dataset(width: width, height: height, channels: channels, data: d, labels: labels.map { l in idx.map { l[$0] } })
        }
        return (take(order[nVal...]), take(order[..<nVal]))
    }
}

/// IDX files (MNIST's format), gzipped or not: magic 0x00 0x00 type ndim, big-endian sizes, data.
public enum IDX {
    /// Reads an unsigned-byte IDX file: (shape, bytes).
    public static func read(path: String) throws -> (shape: [Int], bytes: [UInt8]) {
        guard FileManager.default.fileExists(atPath: path) else { throw DatasetError.missing(path: path) }
        guard let gz = gzopen(path, "rb") else { throw DatasetError.badIDX(file: path, reason: "cannot open") }
        defer { gzclose(gz) }
        var all = [UInt8]()
        var chunk = [UInt8](repeating: 0, count: 1 << 20)
        while true {
            let n = gzread(gz, &chunk, UInt32(chunk.count))
            if n < 0 { throw DatasetError.badIDX(file: path, reason: "corrupt compressed data") }
            if n == 0 { break }
            all.append(contentsOf: chunk[0..<Int(n)])
            if all.count > 1 << 31 { throw DatasetError.badIDX(file: path, reason: "over 2 GB") }
        }
        guard all.count >= 4, all[0] == 0, all[1] == 0 else { throw DatasetError.badIDX(file: path, reason: "bad magic number") }
        guard all[2] == 0x08 else { throw DatasetError.badIDX(file: path, reason: "element type 0x\(String(all[2], radix: 16)) is not unsigned byte") }
        let ndim = Int(all[3])
        guard ndim >= 1, ndim <= 4, all.count >= 4 + 4 * ndim else { throw DatasetError.badIDX(file: path, reason: "bad dimension count") }
        var shape: [Int] = []
        for d in 0..<ndim {
            let o = 4 + 4 * d
            shape.append(Int(all[o]) << 24 | Int(all[o + 1]) << 16 | Int(all[o + 2]) << 8 | Int(all[o + 3]))
        }
        let size = shape.reduce(1, *)
        guard all.count - (4 + 4 * ndim) == size else {
            throw DatasetError.badIDX(file: path, reason: "shape \(shape) needs \(size) bytes, file has \(all.count - 4 - 4 * ndim)")
        }
        return (shape, Array(all[(4 + 4 * ndim)...]))
    }
}

/// MNIST from a folder with the standard file names (gzipped or not), or explicit files.
public enum MNIST {
    static func find(_ folder: String, _ stem: String) -> String? {
        for name in [stem + ".gz", stem, stem.replacingOccurrences(of: "-idx", with: ".idx") + ".gz",
                     stem.replacingOccurrences(of: "-idx", with: ".idx")] {
            let p = (folder as NSString).appendingPathComponent(name)
            if FileManager.default.fileExists(atPath: p) { return p }
        }
        return nil
    }

    /// True if `folder` holds MNIST's training images.
    public static func isMNISTFolder(_ folder: String) -> Bool { find(folder, "train-images-idx3-ubyte") != nil }

    /// Images in [0, 1] (x / 255) with labels when the label file is there.
    public static func load(images: String, labels: String? = nil) throws -> Dataset {
        let (shape, bytes) = try IDX.read(path: images)
        guard shape.count == 3 else { throw DatasetError.badIDX(file: images, reason: "expected 3 dimensions (count, rows, cols), found \(shape.count)") }
        var data = [Float](repeating: 0, count: bytes.count)
        for i in 0..<bytes.count { data[i] = Float(bytes[i]) / 255 }
        var lab: [UInt8]?
        if let labels, FileManager.default.fileExists(atPath: labels) {
            let l = try IDX.read(path: labels)
            if l.shape == [shape[0]] { lab = l.bytes }
        }
        return Dataset(width: shape[2], height: shape[1], channels: 1, data: data, labels: lab)
    }

    /// (train, test) from a folder with the standard names.
    public static func load(folder: String) throws -> (train: Dataset, test: Dataset) {
        guard let tr = find(folder, "train-images-idx3-ubyte") else {
            throw DatasetError.empty(path: folder, reason: "no train-images-idx3-ubyte(.gz) here")
        }
        guard let te = find(folder, "t10k-images-idx3-ubyte") else {
            throw DatasetError.empty(path: folder, reason: "no t10k-images-idx3-ubyte(.gz) here")
        }
        return (try load(images: tr, labels: find(folder, "train-labels-idx1-ubyte")),
                try load(images: te, labels: find(folder, "t10k-labels-idx1-ubyte")))
    }
}

/// A folder of PNGs (walked recursively) as a dataset: each image converted to grey or RGB and
/// resized to width x height with the area-averaging resampler. Unreadable files are skipped and
/// reported through `failures`.
public enum PNGFolderDataset {
    public static func load(folder: String, width: Int, height: Int, channels: Int, limits: PNGLimits = .default,
                            jobs: Int = 2, resize: Bool = true, model: String = "the model") throws -> (dataset: Dataset, failures: [String]) {
        let items = try InputWalker.expand([folder], excluding: nil)
        guard !items.isEmpty else { throw DatasetError.empty(path: folder, reason: "no PNG files in this folder") }
        if !resize {
            // Every image must be the model's input already: say how many are not, and the first.
            let misfits = items.compactMap { item -> (String, String)? in
                guard let r = try? PNGReader(path: item.path, limits: limits) else { return nil }
                defer { r.close() }
                return ModelInputFit.mismatch(r.header, width: width, height: height, channels: channels, model: model).map { (item.path, $0) }
            }
            if let (path, why) = misfits.first {
                throw DatasetError.mismatch(reason: misfits.count == 1 ? "\(path): \(why)"
                    : "\(folder): \(misfits.count) of \(items.count) images are not the model's input (the first, \(path): \(why))")
            }
        }
        let dim = width * height * channels
        let layout: PixelLayout = channels == 3 ? .rgb : .gray
        // One result per file, in input order (a failure names the file).
        let loaded = parallelMap(items.count, jobs: jobs) { i -> Result<[Float], Error> in
            Result {
                let img = try PNGReader.read(path: items[i].path, layout: layout, depth: 8, limits: limits)
                return Resampler.resize(FloatImage(img), width: width, height: height).data
            }
        }
        var data = [Float]()
        data.reserveCapacity(items.count * dim)
        var failures: [String] = []
        for r in loaded {
            switch r {
            case .success(let v): data.append(contentsOf: v)
            case .failure(let e): failures.append("\(e)")
            }
        }
        guard !data.isEmpty else { throw DatasetError.empty(path: folder, reason: "none of the \(items.count) PNG files could be read") }
        return (Dataset(width: width, height: height, channels: channels, data: data), failures)
    }
}

/// A dataset named by path, whatever its kind: an MNIST folder (its train and test sets), an IDX
/// images file, or a folder of PNGs (each converted to `channels` and resized to width x height).
/// `train`, `eval` and the pictures all read their data through this.
public enum DatasetLoader {
    /// `resize` false: a folder's images must be the model's size and colour already (see
    /// `ModelInputFit`); `model` names it in that message.
    public static func load(_ path: String, width: Int, height: Int, channels: Int, resize: Bool = true,
                            model: String = "the model") throws -> (train: Dataset, test: Dataset?, failures: [String]) {
        var isDir: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDir) else { throw DatasetError.missing(path: path) }
        if isDir.boolValue && MNIST.isMNISTFolder(path) {
            let (train, test) = try MNIST.load(folder: path)
            return (train, test, [])
        }
        if !isDir.boolValue { return (try MNIST.load(images: path), nil, []) }
        let (d, failures) = try PNGFolderDataset.load(folder: path, width: width, height: height, channels: channels, resize: resize, model: model)
        return (d, nil, failures)
    }

    /// What training reads: the training set (its first `limit` images when given), and the
    /// held-out set: the data's test set when it has one (MNIST), else a `validation` fraction
    /// split off (at least 2 images needed).
    public static func trainingSets(_ path: String, width: Int, height: Int, channels: Int, limit: Int?, validation: Double,
                                    seed: UInt64) throws -> (train: Dataset, heldOut: Dataset?, test: Dataset?, failures: [String]) {
        let loaded = try load(path, width: width, height: height, channels: channels)
        var train = loaded.train
        if let limit { train = train.prefix(limit) }
        if let test = loaded.test { return (train, test, test, loaded.failures) }
        guard train.count >= 2 else { throw DatasetError.empty(path: path, reason: "need at least 2 images to train and validate") }
        let (tr, va) = train.split(validation: validation, seed: seed)
        return (tr, va, nil, loaded.failures)
    }
}
