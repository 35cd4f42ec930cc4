import Testing
@testable import NN
import Tensor

/// Every backward against central finite differences: L = Σ r ⊙ output for a fixed random r,
/// so ∂L/∂output = r. Reports the largest relative difference on failure.
struct GradientCheckTests {
    static let h: Float = 1e-2

    /// Largest |a − n| / max(1, |a| + |n|) over all entries.
    static func worst(_ analytic: [Float], _ numeric: [Double]) -> Double {
        zip(analytic, numeric).map { abs(Double($0) - $1) / max(1, abs(Double($0)) + abs($1)) }.max() ?? 0
    }

    static func randomMatrix(_ rows: Int, _ cols: Int, _ rng: inout RandomGenerator, scale: Float = 1) -> Matrix {
        Matrix(rows: rows, cols: cols, values: (0..<(rows * cols)).map { _ in (rng.uniform() * 2 - 1) * scale })
    }

    /// Central difference of `loss` with respect to every entry of `m`.
    static func numeric(_ m: Matrix, h: Float = h, _ loss: () -> Double) -> [Double] {
        (0..<m.count).map { i in
            let old = m.data[i]
            m.data[i] = old + h
            let up = loss()
            m.data[i] = old - h
            let down = loss()
            m.data[i] = old
            return (up - down) / (2 * Double(h))
        }
    }

    /// Central differences, skipping entries where the two one-sided differences disagree (a
    /// ReLU kink between x − h and x + h makes the numeric derivative meaningless there).
    /// Returns the largest relative difference over the smooth entries and how many there were.
    static func checkSmooth(_ analytic: [Float], _ m: Matrix, h: Float = 1e-3, _ loss: () -> Double) -> (worst: Double, checked: Int) {
        let f0 = loss()
        var worst = 0.0, checked = 0
        for i in 0..<m.count {
            let old = m.data[i]
            m.data[i] = old + h
            let up = loss()
            m.data[i] = old - h
            let down = loss()
            m.data[i] = old
            let right = (up - f0) / Double(h), left = (f0 - down) / Double(h)
            guard abs(right - left) <= 0.02 * max(1, abs(right) + abs(left)) else { continue }
            let numeric = (up - down) / (2 * Double(h))
            worst = max(worst, abs(Double(analytic[i]) - numeric) / max(1, abs(Double(analytic[i])) + abs(numeric)))
            checked += 1
        }
        return (worst, checked)
    }

    static func dot(_ a: Matrix, _ r: Matrix) -> Double {
        (0..<a.count).reduce(0.0) { $0 + Double(a.data[$1]) * Double(r.data[$1]) }
    }

    @Test(arguments: [Activation.identity, .relu, .leakyRelu(0.1), .sigmoid, .tanh])
    func linear(_ act: Activation) {
        var rng = RandomGenerator(seed: 11)
        let layer = Linear(7, 5, activation: act, name: "fc", rng: &rng)
        let x = Self.randomMatrix(4, 7, &rng)
        let r = Self.randomMatrix(4, 5, &rng)
        let loss = { Self.dot(layer.forward(x), r) }
        _ = layer.forward(x)
        let dy = r.clone()
        let dx = layer.backward(dy)!.array
        let dW = layer.weight.grad.array, db = layer.bias.grad.array
        let nx = Self.numeric(x, loss), nW = Self.numeric(layer.weight.value, loss), nb = Self.numeric(layer.bias.value, loss)
        #expect(Self.worst(dx, nx) < 5e-3, "dx differs by \(Self.worst(dx, nx))")
        #expect(Self.worst(dW, nW) < 5e-3, "dW differs by \(Self.worst(dW, nW))")
        #expect(Self.worst(db, nb) < 5e-3, "db differs by \(Self.worst(db, nb))")
    }

    @Test func gradientsAccumulate() {
        var rng = RandomGenerator(seed: 5)
        let layer = Linear(3, 2, name: "fc", rng: &rng)
        let x = Self.randomMatrix(2, 3, &rng)
        let r = Self.randomMatrix(2, 2, &rng)
        _ = layer.forward(x); _ = layer.backward(r.clone())
        let once = layer.weight.grad.array
        _ = layer.forward(x); _ = layer.backward(r.clone())
        #expect(zip(layer.weight.grad.array, once).allSatisfy { abs($0 - 2 * $1) < 1e-5 })
    }

    @Test(arguments: [Activation.relu, .leakyRelu(0.2), .sigmoid, .tanh])
    func activationLayer(_ act: Activation) {
        var rng = RandomGenerator(seed: 3)
        let layer = ActivationLayer(act, features: 6)
        let x = Self.randomMatrix(3, 6, &rng, scale: 2)
        let r = Self.randomMatrix(3, 6, &rng)
        let loss = { Self.dot(layer.forward(x), r) }
        _ = layer.forward(x)
        let dx = layer.backward(r.clone())!.array
        #expect(Self.worst(dx, Self.numeric(x, loss)) < 5e-3)
    }

    @Test func sequentialChainsBackward() {
        var rng = RandomGenerator(seed: 8)
        let net = Sequential([Linear(5, 8, activation: .tanh, name: "a", rng: &rng),
                              Linear(8, 3, activation: .sigmoid, name: "b", rng: &rng)])
        let x = Self.randomMatrix(2, 5, &rng)
        let r = Self.randomMatrix(2, 3, &rng)
        let loss = { Self.dot(net.forward(x), r) }
        _ = net.forward(x)
        let dx = net.backward(r.clone())!.array
        #expect(Self.worst(dx, Self.numeric(x, loss)) < 5e-3)
        let first = net.layers[0] as! Linear
        #expect(Self.worst(first.weight.grad.array, Self.numeric(first.weight.value, loss)) < 5e-3)
    }

    @Test func bceWithLogits() {
        var rng = RandomGenerator(seed: 21)
        let logits = Self.randomMatrix(3, 10, &rng, scale: 4)
        let target = Matrix(rows: 3, cols: 10, values: (0..<30).map { _ in rng.uniform() })
        let grad = Matrix(rows: 3, cols: 10)
        let loss = { Loss.bceWithLogits(logits: logits, target: target, grad: nil) }
        let l0 = Loss.bceWithLogits(logits: logits, target: target, grad: grad)
        #expect(Self.worst(grad.array, Self.numeric(logits, loss)) < 5e-3)
        // Same value as the textbook formula on σ(l).
        var ref = 0.0
        for i in 0..<30 {
            let s = 1 / (1 + exp(-Double(logits.data[i]))), t = Double(target.data[i])
            ref -= t * log(s) + (1 - t) * log(1 - s)
        }
        #expect(abs(l0 - ref) < 1e-4 * ref)
        // Stable for huge logits.
        let big = Matrix(rows: 1, cols: 2, values: [500, -500])
        let t = Matrix(rows: 1, cols: 2, values: [0, 1])
        let l = Loss.bceWithLogits(logits: big, target: t, grad: nil)
        #expect(l.isFinite && abs(l - 1000) < 1e-2)
    }

    @Test func squaredError() {
        var rng = RandomGenerator(seed: 2)
        let y = Self.randomMatrix(2, 6, &rng)
        let t = Self.randomMatrix(2, 6, &rng)
        let grad = Matrix(rows: 2, cols: 6)
        Loss.squaredError(output: y, target: t, grad: grad)
        #expect(Self.worst(grad.array, Self.numeric(y, { Loss.squaredError(output: y, target: t, grad: nil) })) < 5e-3)
    }

    @Test(arguments: [Float(1), 4])
    func gaussianSampleAndKL(_ beta: Float) {
        var rng = RandomGenerator(seed: 17)
        let zDim = 4
        let stats = Self.randomMatrix(3, 2 * zDim, &rng)
        let eps = Matrix(rows: 3, cols: zDim, values: (0..<(3 * zDim)).map { _ in rng.normal() })
        let r = Self.randomMatrix(3, zDim, &rng)
        let z = Matrix(rows: 3, cols: zDim)
        // L = Σ r ⊙ z + β·KL
        let loss = { () -> Double in
            let kl = Loss.gaussianSample(stats: stats, eps: eps, z: z)
            return Self.dot(z, r) + Double(beta) * kl
        }
        _ = loss()
        let dStats = Matrix(rows: 3, cols: 2 * zDim)
        Loss.gaussianSampleBackward(stats: stats, eps: eps, dz: r, dStats: dStats, beta: beta)
        #expect(Self.worst(dStats.array, Self.numeric(stats, loss)) < 5e-3)
        // KL against the closed form.
        var ref = 0.0
        for b in 0..<3 {
            for i in 0..<zDim {
                let mu = Double(stats[b, i]), lv = Double(stats[b, zDim + i])
                ref += -0.5 * (1 + lv - mu * mu - exp(lv))
            }
        }
        #expect(abs(Loss.gaussianSample(stats: stats, eps: nil, z: z) - ref) < 1e-4)
    }
}

#if canImport(Glibc)
import Glibc
#endif
