import CKernels
import Tensor

/// Fully connected layer with a fused activation:  y = f(x · Wᵀ + b).
///
/// - Shapes: x (batch, in), W (out, in) as in PyTorch's `nn.Linear`, b (out), y (batch, out).
/// - Initialisation (PyTorch's): W and b uniform in ±1/√in.
/// - Backward, with dz = dy ⊙ f'(y):  dW += dzᵀ · x,  db += Σ_batch dz,  dx = dz · W.
/// - The bias is written into y before the GEMM (beta = 1) and the activation applied in place
///   after it, so y is touched once more, not three times.
public final class Linear: Layer {
    public let weight: Parameter
    public let bias: Parameter
    public var activation: Activation
    /// False for a first layer: its dx would be thrown away, so the GEMM is skipped.
    public var computesInputGradient: Bool
    /// Forward with `lk_dense_forward_exact` instead of sgemm: slower, but each output row is
    /// bit-identical whatever rows it is batched with (OpenBLAS's kernels treat rows differently
    /// by their position in a block). For inference whose output must not depend on batching.
    public var exactInference = false

    public var inFeatures: Int { weight.value.cols }
    public var outFeatures: Int { weight.value.rows }
    public var parameters: [Parameter] { [weight, bias] }

    private var input: Matrix?
    public let output: Matrix
    private let dInput: Matrix

    public init(_ inFeatures: Int, _ outFeatures: Int, activation: Activation = .identity,
                name: String, computesInputGradient: Bool = true, rng: inout RandomGenerator) {
        weight = Parameter(name: name + ".weight", shape: [outFeatures, inFeatures], rows: outFeatures, cols: inFeatures)
        bias = Parameter(name: name + ".bias", shape: [outFeatures], rows: 1, cols: outFeatures)
        self.activation = activation
        self.computesInputGradient = computesInputGradient
        output = Matrix(rows: 0, cols: outFeatures)
        dInput = Matrix(rows: 0, cols: inFeatures)
        let bound = 1 / Float(inFeatures).squareRoot()
        for i in 0..<weight.count { weight.value.data[i] = (rng.uniform() * 2 - 1) * bound }
        for i in 0..<bias.count { bias.value.data[i] = (rng.uniform() * 2 - 1) * bound }
    }

    private init(sharing other: Linear) {
        weight = Parameter(sharing: other.weight)
        bias = Parameter(sharing: other.bias)
        activation = other.activation
        computesInputGradient = other.computesInputGradient
        output = Matrix(rows: 0, cols: other.outFeatures)
        dInput = Matrix(rows: 0, cols: other.inFeatures)
    }

    public func replica() -> Layer { Linear(sharing: self) }

    public func forward(_ x: Matrix) -> Matrix {
        precondition(x.cols == inFeatures, "Linear \(weight.name): input has \(x.cols) features, expected \(inFeatures)")
        input = x
        let n = x.rows
        output.setRows(n)
        // y = b (each row), then y += x · Wᵀ
        if exactInference {
            lk_dense_forward_exact(x.data, n, inFeatures, weight.value.data, bias.value.data, outFeatures, output.data)
        } else {
            lk_fill_rows(output.data, bias.value.data, n, outFeatures)
            BLAS.gemm(transA: false, transB: true, m: n, n: outFeatures, k: inFeatures,
                      a: x.data, lda: inFeatures, b: weight.value.data, ldb: inFeatures,
                      beta: 1, c: output.data, ldc: outFeatures)
        }
        activation.forward(output.data, count: output.count)
        return output
    }

    public func backward(_ dy: Matrix) -> Matrix? {
        guard let x = input else { preconditionFailure("Linear.backward before forward") }
        let n = x.rows
        precondition(dy.rows == n && dy.cols == outFeatures, "Linear \(weight.name): dy is \(dy.rows)x\(dy.cols)")
        // dz = dy ⊙ f'(y), in place
        activation.backward(dy.data, output: output.data, count: dy.count)
        // dW (out, in) += dzᵀ (out, n) · x (n, in)
        BLAS.gemm(transA: true, transB: false, m: outFeatures, n: inFeatures, k: n,
                  a: dy.data, lda: outFeatures, b: x.data, ldb: inFeatures,
                  beta: 1, c: weight.grad.data, ldc: inFeatures)
        // db += Σ_rows dz
        lk_add_column_sums(dy.data, bias.grad.data, n, outFeatures)
        guard computesInputGradient else { return nil }
        // dx (n, in) = dz (n, out) · W (out, in)
        dInput.setRows(n)
        BLAS.gemm(transA: false, transB: false, m: n, n: inFeatures, k: outFeatures,
                  a: dy.data, lda: outFeatures, b: weight.value.data, ldb: inFeatures,
                  beta: 0, c: dInput.data, ldc: inFeatures)
        return dInput
    }
}

/// A standalone activation (for models that need one between other layers).
public final class ActivationLayer: Layer {
    public let activation: Activation
    public let features: Int
    private let output: Matrix
    public var inFeatures: Int { features }
    public var outFeatures: Int { features }
    public var parameters: [Parameter] { [] }

    public init(_ activation: Activation, features: Int) {
        self.activation = activation
        self.features = features
        output = Matrix(rows: 0, cols: features)
    }

    public func replica() -> Layer { ActivationLayer(activation, features: features) }

    public func forward(_ x: Matrix) -> Matrix {
        output.copy(from: x)
        activation.forward(output.data, count: output.count)
        return output
    }

    public func backward(_ dy: Matrix) -> Matrix? {
        activation.backward(dy.data, output: output.data, count: dy.count)
        return dy
    }
}
