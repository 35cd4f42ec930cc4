/// A differentiable stage with paired forward and backward.
///
/// `forward(x)` takes a batch (batch, in) and returns (batch, out) in a buffer the layer owns and
/// reuses (valid until its next forward); it keeps what backward needs. `backward(dy)` takes
/// ∂L/∂y (batch, out) — it may overwrite `dy` — accumulates parameter gradients with `+=`, and
/// returns ∂L/∂x (batch, in), or nil when the layer was told its input needs no gradient.
public protocol Layer: AnyObject {
    var inFeatures: Int { get }
    var outFeatures: Int { get }
    var parameters: [Parameter] { get }
    func forward(_ x: Matrix) -> Matrix
    func backward(_ dy: Matrix) -> Matrix?
    /// A layer computing the same function with the same parameter values (shared memory) but
    /// its own gradients and buffers, for data-parallel training.
    func replica() -> Layer
}

/// Layers applied one after the other.
public final class Sequential: Layer {
    public let layers: [Layer]

    public init(_ layers: [Layer]) {
        precondition(!layers.isEmpty, "Sequential needs a layer")
        for (a, b) in zip(layers, layers.dropFirst()) {
            precondition(a.outFeatures == b.inFeatures, "layer sizes \(a.outFeatures) → \(b.inFeatures) do not chain")
        }
        self.layers = layers
    }

    public var inFeatures: Int { layers.first!.inFeatures }
    public var outFeatures: Int { layers.last!.outFeatures }
    public var parameters: [Parameter] { layers.flatMap(\.parameters) }

    public func forward(_ x: Matrix) -> Matrix {
        var h = x
        for l in layers { h = l.forward(h) }
        return h
    }

    public func replica() -> Layer { Sequential(layers.map { $0.replica() }) }

    public func backward(_ dy: Matrix) -> Matrix? {
        var g: Matrix? = dy
        for l in layers.reversed() {
            guard let current = g else { return nil }
            g = l.backward(current)
        }
        return g
    }
}
