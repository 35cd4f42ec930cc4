import Dispatch
import Synchronization

/// body(0..<n) on up to `jobs` threads (workers pull the next index); results in index order.
public func parallelMap<T>(_ n: Int, jobs: Int, _ body: @escaping (Int) -> T) -> [T] {
    if n == 0 { return [] }
    let out = UnsafeMutableBufferPointer<T?>.allocate(capacity: n)
    out.initialize(repeating: nil)
    defer {
        _ = out.deinitialize()  // releases the results (their images), not only the buffer
        out.deallocate()
    }
    let next = Atomic<Int>(0)
    let box = UncheckedBox((body, out))
    let workers = max(1, min(jobs, n))
    if workers == 1 {
        for i in 0..<n { out[i] = body(i) }
    } else {
        DispatchQueue.concurrentPerform(iterations: workers) { _ in
            while true {
                let i = next.add(1, ordering: .relaxed).oldValue
                if i >= n { break }
                box.value.1[i] = box.value.0(i)
            }
        }
    }
    return out.map { $0! }
}

/// body(0..<n) on n threads at once (inline when n == 1), waiting for all: every index its own
/// thread (data-parallel training workers, the column slices of a layer).
public func parallelFor(_ n: Int, _ body: (Int) -> Void) {
    if n <= 1 { if n == 1 { body(0) }; return }
    withoutActuallyEscaping(body) { escapable in
        let box = UncheckedBox(escapable)
        DispatchQueue.concurrentPerform(iterations: n) { box.value($0) }
    }
}

public struct UncheckedBox<T>: @unchecked Sendable {
    public let value: T
    public init(_ v: T) { value = v }
}
