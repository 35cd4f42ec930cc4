import Dispatch
import Foundation
import Synchronization

/// What happened to one item of a batch.
public enum ItemOutcome: Sendable, Equatable {
    case done
    /// Done, replacing an output made earlier by other settings or from another input.
    case replacedStale
    /// Its output exists, made by the same settings from the same input.
    case skipped
    case failed(String)
    /// Done, with something the user should know (for instance noise above the model's range).
    case warned(String)
}

/// Counts of a finished (or running) batch.
public struct BatchProgress: Sendable, Equatable {
    public var total: Int
    public var done = 0
    /// Of `done`, how many replaced a stale output.
    public var replacedStale = 0
    public var skipped = 0
    public var failed = 0
    public var finished: Int { done + skipped + failed }
    /// How far the items still running have got, added up (0.5: half an image), for progress
    /// inside large images.
    public var partial = 0.0
    public init(total: Int) { self.total = total }

    /// Counts one finished item.
    public mutating func count(_ outcome: ItemOutcome) {
        switch outcome {
        case .done, .warned: done += 1
        case .replacedStale: done += 1; replacedStale += 1
        case .skipped: skipped += 1
        case .failed: failed += 1
        }
    }
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
        run(count: count, jobs: jobs, progress: progress) { i, _ in work(i) }
    }

    /// The same, with `work` also given a reporter of how far item i has got (0...1).
    public static func run(
        count: Int, jobs: Int,
        progress: (@Sendable (BatchProgress) -> Void)? = nil,
        work: @escaping @Sendable (Int, _ partial: @escaping @Sendable (Double) -> Void) -> ItemOutcome
    ) -> [ItemOutcome] {
        let next = Atomic<Int>(0)
        let state = BatchState(count: count)
        let workers = max(1, min(jobs, count))
        DispatchQueue.concurrentPerform(iterations: workers) { _ in
            while true {
                let i = next.add(1, ordering: .relaxed).oldValue
                if i >= count { break }
                let outcome = work(i) { fraction in
                    guard let progress else { return }
                    state.lock.lock()
                    state.partials[i] = min(1, max(0, fraction))
                    state.progress.partial = state.partials.values.reduce(0, +)
                    progress(state.progress)
                    state.lock.unlock()
                }
                state.lock.lock()
                state.outcomes[i] = outcome
                state.partials[i] = nil
                state.progress.partial = state.partials.values.reduce(0, +)
                state.progress.count(outcome)
                if let progress { progress(state.progress) }
                state.lock.unlock()
            }
        }
        state.lock.lock()
        defer { state.lock.unlock() }
        return state.outcomes
    }
}

/// The outcomes and counts workers share, behind a pthread lock (NSLock): ThreadSanitizer
/// understands it, where the futex under Synchronization's Mutex looks like a race to it.
private final class BatchState: @unchecked Sendable {
    let lock = NSLock()
    var outcomes: [ItemOutcome]
    var progress: BatchProgress
    var partials: [Int: Double] = [:]
    init(count: Int) {
        outcomes = [ItemOutcome](repeating: .skipped, count: count)
        progress = BatchProgress(total: count)
    }
}
