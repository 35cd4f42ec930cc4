import CKernels

/// Elementwise non-linearities. Each layer applies its activation in the same pass as its bias
/// (fused), and the backward uses the forward output y = f(x):
/// ReLU f' = [y > 0]; LeakyReLU f' = [y > 0] + slope·[y ≤ 0]; Sigmoid f' = y(1 − y); Tanh f' = 1 − y².
public enum Activation: Sendable, Equatable, CustomStringConvertible {
    case identity
    case relu
    case leakyRelu(Float)
    case sigmoid
    case tanh

    var kind: Int32 {
        switch self {
        case .identity: return Int32(LK_IDENTITY)
        case .relu: return Int32(LK_RELU)
        case .leakyRelu: return Int32(LK_LEAKY_RELU)
        case .sigmoid: return Int32(LK_SIGMOID)
        case .tanh: return Int32(LK_TANH)
        }
    }

    var slope: Float {
        if case .leakyRelu(let s) = self { return s }
        return 0
    }

    /// y = f(y) in place over n values.
    public func forward(_ y: UnsafeMutablePointer<Float>, count n: Int) {
        if self != .identity { lk_activation_forward(kind, y, n, slope) }
    }

    /// dy *= f'(x), given y = f(x).
    public func backward(_ dy: UnsafeMutablePointer<Float>, output y: UnsafePointer<Float>, count n: Int) {
        if self != .identity { lk_activation_backward(kind, dy, y, n, slope) }
    }

    public var description: String {
        switch self {
        case .identity: return "identity"
        case .relu: return "relu"
        case .leakyRelu(let s): return "leakyrelu:\(s)"
        case .sigmoid: return "sigmoid"
        case .tanh: return "tanh"
        }
    }

    /// Parses "relu", "leakyrelu", "leakyrelu:0.2", "sigmoid", "tanh", "identity".
    public init?(_ s: String) {
        let parts = s.lowercased().split(separator: ":")
        switch parts.first {
        case "identity", "linear": self = .identity
        case "relu": self = .relu
        case "leakyrelu", "leaky_relu":
            self = .leakyRelu(parts.count > 1 ? Float(parts[1]) ?? 0.01 : 0.01)
        case "sigmoid": self = .sigmoid
        case "tanh": self = .tanh
        default: return nil
        }
    }
}
