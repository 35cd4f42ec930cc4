import Testing
@testable import NN
import Tensor
import CKernels

struct OptimizerTests {
    @Test func adamMatchesTheReferenceFormula() {
        let p = Parameter(name: "w", shape: [3], rows: 1, cols: 3)
        p.value.copy(from: [0.5, -1, 2])
        let opt = Adam(learningRate: 0.1)
        var ref: [Double] = [0.5, -1, 2]
        var m = [0.0, 0, 0], v = [0.0, 0, 0]
        for t in 1...5 {
            // gradient of Σ p² + p
            let g = ref.map { 2 * $0 + 1 }
            p.grad.copy(from: p.value.array.map { 2 * $0 + 1 })
            opt.step([p])
            for i in 0..<3 {
                m[i] = 0.9 * m[i] + 0.1 * g[i]
                v[i] = 0.999 * v[i] + 0.001 * g[i] * g[i]
                let bc1 = 1 - pow(0.9, Double(t)), bc2 = 1 - pow(0.999, Double(t))
                ref[i] -= 0.1 / bc1 * m[i] / (v[i].squareRoot() / bc2.squareRoot() + 1e-8)
            }
            #expect(p.grad.array == [0, 0, 0], "step clears gradients")
        }
        for i in 0..<3 { #expect(abs(Double(p.value.data[i]) - ref[i]) < 1e-5) }
    }

    @Test func sgdWithMomentum() {
        let p = Parameter(name: "w", shape: [1], rows: 1, cols: 1)
        p.value.copy(from: [1])
        let opt = SGD(learningRate: 0.1, momentum: 0.5)
        p.grad.copy(from: [2]); opt.step([p])   // v = 2, p = 0.8
        p.grad.copy(from: [2]); opt.step([p])   // v = 3, p = 0.5
        #expect(abs(p.value.data[0] - 0.5) < 1e-6)
    }

    /// A tiny autoencoder on generated data: the loss must fall well below where it started.
    @Test func tinyAutoencoderLearns() {
        var rng = RandomGenerator(seed: 1)
        // 64 patterns of 16 pixels made from 3 hidden factors.
        let basis = (0..<(3 * 16)).map { _ in rng.uniform() }
        var data: [Float] = []
        for _ in 0..<64 {
            let f = (0..<3).map { _ in rng.uniform() }
            for j in 0..<16 { data.append(min(1, (0..<3).reduce(Float(0)) { $0 + f[$1] * basis[$1 * 16 + j] } / 2)) }
        }
        let x = Matrix(rows: 64, cols: 16, values: data)
        let net = Sequential([
            Linear(16, 8, activation: .relu, name: "e", computesInputGradient: false, rng: &rng),
            Linear(8, 3, name: "z", rng: &rng),
            Linear(3, 8, activation: .relu, name: "d", rng: &rng),
            Linear(8, 16, name: "o", rng: &rng),
        ])
        let opt = Adam(learningRate: 1e-2)
        let grad = Matrix(rows: 64, cols: 16)
        var first = 0.0, last = 0.0
        for step in 0..<300 {
            let logits = net.forward(x)
            let loss = Loss.bceWithLogits(logits: logits, target: x, grad: grad)
            if step == 0 { first = loss }
            last = loss
            _ = net.backward(grad)
            opt.step(net.parameters)
        }
        // The entropy floor of these soft targets is not zero; compare the excess over it.
        let floor = (0..<data.count).reduce(0.0) { acc, i in
            let t = Double(data[i]); return acc - (t > 0 ? t * log(t) : 0) - (t < 1 ? (1 - t) * log(1 - t) : 0)
        }
        #expect(last - floor < 0.1 * (first - floor), "loss went from \(first) to \(last) (floor \(floor))")
    }

    @Test func fastExpAndLogAreAccurate() {
        let xs: [Float] = stride(from: -80, through: 80, by: 0.37).map { Float($0) }
        var out = [Float](repeating: 0, count: xs.count)
        lk_exp(xs, &out, xs.count)
        for (x, y) in zip(xs, out) { #expect(abs(y - expf(x)) <= 4e-7 * expf(x), "exp(\(x))") }
        let ps: [Float] = stride(from: 1e-6, through: 1e6, by: 997.3).map { Float($0) } + [1, 2, 0.5, 1.0001]
        var logs = [Float](repeating: 0, count: ps.count)
        lk_log(ps, &logs, ps.count)
        for (x, y) in zip(ps, logs) { #expect(abs(y - logf(x)) <= 2e-7 * max(1, abs(logf(x))), "log(\(x))") }
    }
}

#if canImport(Glibc)
import Glibc
#endif
