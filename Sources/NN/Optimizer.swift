import CKernels
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Something that updates parameters from their gradients, then clears the gradients.
public protocol Optimizer: AnyObject {
    var learningRate: Float { get set }
    func step(_ parameters: [Parameter])
}

/// Adam (Kingma & Ba 2015) in PyTorch's form, per parameter:
///   m ← β1 m + (1 − β1) g,  v ← β2 v + (1 − β2) g²,
///   p ← p − (lr / (1 − β1ᵗ)) · m / (√v / √(1 − β2ᵗ) + ε).
/// State (m, v) is created lazily for each parameter; one fused pass per parameter also clears g.
public final class Adam: Optimizer {
    public var learningRate: Float
    public var beta1: Float
    public var beta2: Float
    public var eps: Float
    public var weightDecay: Float
    public private(set) var t: Int = 0
    /// (m, v) per parameter name.
    public private(set) var state: [String: (m: Matrix, v: Matrix)] = [:]

    public init(learningRate: Float = 1e-3, beta1: Float = 0.9, beta2: Float = 0.999, eps: Float = 1e-8,
                weightDecay: Float = 0) {
        self.learningRate = learningRate
        self.beta1 = beta1
        self.beta2 = beta2
        self.eps = eps
        self.weightDecay = weightDecay
    }

    public func step(_ parameters: [Parameter]) {
        advance(parameters)
        update(parameters, part: 0, of: 1)
    }

    /// Counts a step and creates missing state; call once, then `update` (possibly from several
    /// threads, each with its own `part`).
    public func advance(_ parameters: [Parameter]) {
        t += 1
        for p in parameters where state[p.name] == nil {
            state[p.name] = (m: Matrix(rows: p.value.rows, cols: p.value.cols), v: Matrix(rows: p.value.rows, cols: p.value.cols))
        }
    }

    /// Updates the `part`-th of `parts` equal slices of every parameter (and clears its gradient).
    public func update(_ parameters: [Parameter], part: Int, of parts: Int) {
        let bc1 = 1 - Float(pow(Double(beta1), Double(t)))
        let bc2 = 1 - Float(pow(Double(beta2), Double(t)))
        let stepSize = learningRate / bc1
        for p in parameters {
            guard let s = state[p.name] else { continue }
            let lo = p.count * part / parts, hi = p.count * (part + 1) / parts
            guard hi > lo else { continue }
            lk_adam(p.value.data + lo, p.grad.data + lo, s.m.data + lo, s.v.data + lo, hi - lo, stepSize, beta1, beta2,
                    bc2.squareRoot(), eps, weightDecay, 1)
        }
    }

    /// Restores the step count and moments (for resuming).
    public func restore(t: Int, state: [String: (m: [Float], v: [Float])]) {
        self.t = t
        self.state = state.mapValues { mv in
            (m: Matrix(rows: 1, cols: mv.m.count, values: mv.m), v: Matrix(rows: 1, cols: mv.v.count, values: mv.v))
        }
    }
}

/// Plain stochastic gradient descent with optional momentum: v ← μ v + g; p ← p − lr · v.
public final class SGD: Optimizer {
    public var learningRate: Float
    public var momentum: Float
    private var velocity: [String: Matrix] = [:]

    public init(learningRate: Float, momentum: Float = 0) {
        self.learningRate = learningRate
        self.momentum = momentum
    }

    public func step(_ parameters: [Parameter]) {
        for p in parameters {
            let n = p.count
            if momentum != 0 {
                let v = velocity[p.name] ?? { let m = Matrix(rows: p.value.rows, cols: p.value.cols); velocity[p.name] = m; return m }()
                for i in 0..<n { v.data[i] = momentum * v.data[i] + p.grad.data[i] }
                lk_axpy(p.value.data, v.data, -learningRate, n)
            } else {
                lk_axpy(p.value.data, p.grad.data, -learningRate, n)
            }
            p.zeroGrad()
        }
    }
}

