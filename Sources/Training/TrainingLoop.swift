import FileIO
import Foundation
import Models
import NN
import Tensor

/// The loop both trainers run (`Trainer` for the MLP models, `PatchTrainer` for the
/// convolutional ones): each step, every worker trains its replica on its share of the batch
/// with its own generator (seeded by seed, epoch and worker, so a resumed run continues exactly
/// as the uninterrupted one), the replicas' gradients are summed into the model's and Adam
/// takes the step; a loss that is not finite stops the run. BLAS runs on one thread while
/// several workers do. Checkpoints: the model's tensors, Adam's moments and the epoch, written
/// by `writeCheckpoint`.
struct TrainingLoop {
    let optimizer: Adam
    let params: [Parameter]
    let replicaParams: [[Parameter]]
    var workers: Int { replicaParams.count }

    init(optimizer: Adam, params: [Parameter], replicaParams: [[Parameter]]) {
        self.optimizer = optimizer
        self.params = params
        self.replicaParams = replicaParams
    }

    /// The generator of `worker` in `epoch` (worker 0's is the single-worker stream).
    static func generator(seed: UInt64, epoch: Int, worker: Int = 0) -> RandomGenerator {
        RandomGenerator(seed: seed &+ UInt64(epoch) &* 0x9E37_79B9_7F4A_7C15 &+ UInt64(worker) &* 0xD1B5_4A32_D192_ED03)
    }

    /// One epoch of `steps` steps. `prepare` sees worker 0's generator first (to shuffle);
    /// `work(step, worker, rng)` trains one replica and returns its losses; `learningRate(step)`
    /// sets Adam's rate before each step (nil: unchanged); `afterStep(step, sums)` hears the
    /// running sums. Returns the epoch's summed losses.
    func epoch(_ epoch: Int, seed: UInt64, steps: Int, prepare: (inout RandomGenerator) -> Void = { _ in },
               learningRate: ((Int) -> Float)? = nil, work: (Int, Int, inout RandomGenerator) -> StepLosses,
               afterStep: (Int, StepLosses) -> Void) throws -> StepLosses {
        let w = workers
        let savedThreads = BLAS.threads
        if w > 1 { BLAS.setThreads(1) }
        defer { if w > 1 { BLAS.setThreads(savedThreads) } }
        let rngs = UnsafeMutableBufferPointer<RandomGenerator>.allocate(capacity: w)
        let losses = UnsafeMutableBufferPointer<StepLosses>.allocate(capacity: w)
        defer { rngs.deallocate(); losses.deallocate() }
        for k in 0..<w { rngs[k] = Self.generator(seed: seed, epoch: epoch, worker: k) }
        prepare(&rngs[0])
        var sums = StepLosses()
        for step in 0..<steps {
            parallelFor(w) { k in losses[k] = work(step, k, &rngs[k]) }
            for k in 0..<w { sums += losses[k] }
            if !sums.total.isFinite { throw TrainingError.diverged(epoch: epoch) }
            if w > 1 {
                // Sum the replicas' gradients into the model's, each worker a slice of every parameter.
                parallelFor(w) { sumReplicaGradients(into: params, from: replicaParams, part: $0, of: w) }
            }
            if let learningRate { optimizer.learningRate = learningRate(step) }
            optimizer.advance(params)
            parallelFor(w) { part in optimizer.update(params, part: part, of: w) }
            afterStep(step, sums)
        }
        return sums
    }

    /// A checkpoint: `tensors` (the model's), Adam's moments of `params` and the epoch, with
    /// `metadata`, in one safetensors file written atomically.
    static func writeCheckpoint(_ tensors: [NamedTensor], params: [Parameter], optimizer: Adam, epoch: Int,
                                metadata: [String: String], to path: String) throws {
        var tensors = tensors
        for p in params {
            if let s = optimizer.state[p.name] {
                tensors.append(NamedTensor(name: "optim.m." + p.name, shape: [p.count], values: s.m.array))
                tensors.append(NamedTensor(name: "optim.v." + p.name, shape: [p.count], values: s.v.array))
            }
        }
        var meta = metadata
        meta["checkpoint_epoch"] = "\(epoch)"
        meta["adam_t"] = "\(optimizer.t)"
        try SafeTensors.write(tensors, metadata: meta, to: path)
    }

    /// Adam's moments of `params` in a checkpoint's tensors (those of the right size).
    static func optimizerState(_ tensors: [String: NamedTensor], params: [Parameter]) -> [String: (m: [Float], v: [Float])] {
        var state: [String: (m: [Float], v: [Float])] = [:]
        for p in params {
            if let m = tensors["optim.m." + p.name], let v = tensors["optim.v." + p.name], m.values.count == p.count, v.values.count == p.count {
                state[p.name] = (m.values, v.values)
            }
        }
        return state
    }
}
