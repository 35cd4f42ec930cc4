import Dispatch
import Synchronization

/// What happened to one item of a batch.
public enum ItemOutcome: Sendable, Equatable {
    case done
    case skipped
    case failed(String)
}

/// Counts of a finished (or running) batch.
public struct BatchProgress: Sendable, Equatable {
    public var total: Int
    public var done = 0
    public var skipped = 0
    public var failed = 0
    public var finished: Int { done + skipped + failed }
    public init(total: Int) { self.total = total }
}

/// Runs `work` over `count` items on `jobs` threads. Workers pull the next index from a shared
/// counter, so a slow file does not hold up the others; outcomes are returned in item order.
/// `progress` is called (from worker threads, serialised) after each item.
public enum BatchRunner {
    public static func run(
        count: Int, jobs: Int,
        progress: (@Sendable (BatchProgress) -> Void)? = nil,
        work: @escaping @Sendable (Int) -> ItemOutcome
    ) -> [ItemOutcome] {
        let next = Atomic<Int>(0)
        let state = Mutex((outcomes: [ItemOutcome](repeating: .skipped, count: count),
                           progress: BatchProgress(total: count)))
        let workers = max(1, min(jobs, count))
        DispatchQueue.concurrentPerform(iterations: workers) { _ in
            while true {
                let i = next.add(1, ordering: .relaxed).oldValue
                if i >= count { break }
                let outcome = work(i)
                let snapshot = state.withLock { s -> BatchProgress in
                    s.outcomes[i] = outcome
                    switch outcome {
                    case .done: s.progress.done += 1
                    case .skipped: s.progress.skipped += 1
                    case .failed: s.progress.failed += 1
                    }
                    if let progress { progress(s.progress) }
                    return s.progress
                }
                _ = snapshot
            }
        }
        return state.withLock { $0.outcomes }
    }
}
