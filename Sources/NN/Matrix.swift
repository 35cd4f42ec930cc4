import Foundation

/// A row-major matrix of Floats in memory the owner reuses across steps: (rows, cols) with
/// `rows` allowed to shrink and grow up to `capacityRows` without reallocating (the last batch of
/// an epoch is smaller). A class on purpose: layers hand out their buffers by reference, and
/// nothing is copied on write.
public final class Matrix: @unchecked Sendable {
    public private(set) var rows: Int
    public let cols: Int
    public private(set) var capacityRows: Int
    public private(set) var data: UnsafeMutablePointer<Float>

    public init(rows: Int, cols: Int) {
        precondition(rows >= 0 && cols >= 0, "negative matrix size")
        self.rows = rows
        self.cols = cols
        capacityRows = max(rows, 1)
        data = Self.zeroed(max(1, capacityRows * cols))
    }

    /// Zeroed storage from calloc: large blocks come as fresh pages that cost no memory until
    /// written (a loaded model's gradients, never touched by inference).
    private static func zeroed(_ n: Int) -> UnsafeMutablePointer<Float> {
        guard let p = calloc(n, MemoryLayout<Float>.stride) else { fatalError("out of memory allocating \(n) floats") }
        return p.assumingMemoryBound(to: Float.self)
    }

    public convenience init(rows: Int, cols: Int, values: [Float]) {
        precondition(values.count == rows * cols, "Matrix: \(values.count) values for \(rows)x\(cols)")
        self.init(rows: rows, cols: cols)
        values.withUnsafeBufferPointer { data.update(from: $0.baseAddress!, count: values.count) }
    }

    deinit { free(data) }

    public var count: Int { rows * cols }

    /// Sets the number of rows, growing the storage if needed (contents then undefined).
    public func setRows(_ n: Int) {
        if n > capacityRows {
            free(data)
            capacityRows = n
            data = Self.zeroed(capacityRows * cols)
        }
        rows = n
    }

    public subscript(r: Int, c: Int) -> Float {
        get { data[r * cols + c] }
        set { data[r * cols + c] = newValue }
    }

    public var array: [Float] { Array(UnsafeBufferPointer(start: data, count: count)) }

    public func fill(_ v: Float) { data.update(repeating: v, count: count) }

    public func copy(from other: Matrix) {
        precondition(other.cols == cols, "copy: \(other.cols) columns into \(cols)")
        setRows(other.rows)
        data.update(from: other.data, count: other.count)
    }

    public func copy(from values: [Float]) {
        precondition(values.count == count, "copy: \(values.count) values into \(rows)x\(cols)")
        values.withUnsafeBufferPointer { data.update(from: $0.baseAddress!, count: count) }
    }

    /// A new matrix with the same contents.
    public func clone() -> Matrix {
        let m = Matrix(rows: rows, cols: cols)
        m.data.update(from: data, count: count)
        return m
    }
}

/// A trainable tensor and its gradient (same shape). `name` is the safetensors tensor name;
/// `shape` the PyTorch shape it is saved with (a bias of `out` values is stored 1 x out here).
public final class Parameter: @unchecked Sendable {
    public let name: String
    public let shape: [Int]
    public let value: Matrix
    public let grad: Matrix

    public init(name: String, shape: [Int], rows: Int, cols: Int) {
        precondition(shape.reduce(1, *) == rows * cols, "parameter \(name): shape \(shape) ≠ \(rows)x\(cols)")
        self.name = name
        self.shape = shape
        value = Matrix(rows: rows, cols: cols)
        grad = Matrix(rows: rows, cols: cols)
    }

    /// A parameter that shares `other`'s values (the same memory) with a gradient of its own:
    /// for data-parallel replicas of a model.
    public init(sharing other: Parameter) {
        name = other.name
        shape = other.shape
        value = other.value
        grad = Matrix(rows: other.value.rows, cols: other.value.cols)
    }

    public var count: Int { value.count }
    public func zeroGrad() { grad.fill(0) }
}
