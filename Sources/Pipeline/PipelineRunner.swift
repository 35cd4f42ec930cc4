import Dispatch
import Foundation
import Imaging
import PNGIO
import Synchronization
import FileIO

/// Settings of a pipeline run.
public struct PipelineOptions: Sendable {
    public var jobs: Int
    public var overwrite: Bool
    public var limits: PNGLimits
    public var compression: Int?
    /// Decoded pixels held at once (bounds memory; small images get large chunks so the model
    /// sees large batches).
    public var chunkPixels: Int
    public var maxChunkImages: Int
    /// Outputs keep their input's colour profile, gamma, chromaticities, pixel density and text
    /// chunks (`--strip` turns this off).
    public var keepMetadata = true

    public init(jobs: Int = 2, overwrite: Bool = false, limits: PNGLimits = .default, compression: Int? = nil,
                chunkPixels: Int = 8 << 20, maxChunkImages: Int = 256) {
        self.jobs = jobs
        self.overwrite = overwrite
        self.limits = limits
        self.compression = compression
        self.chunkPixels = chunkPixels
        self.maxChunkImages = maxChunkImages
    }
}

/// How one item of a run ended: its outcome, the seconds it took when it ran on its own
/// (streamed stages; chunked chains process items together: nil), and what the stages added to
/// its output's provenance (`latent:sigma`, the noise level read in it, for instance).
public struct ItemReport: Sendable {
    public let item: InputItem
    public let outcome: ItemOutcome
    public let seconds: Double?
    public let texts: [(key: String, text: String)]
}

/// Runs a chain over a list of inputs, a chunk at a time: decoding and the per-image stages run
/// on `jobs` threads; each model stage sees all of a chunk's images at once (so its GEMMs are
/// large) and runs on one thread; encoding and writing run on `jobs` threads again. The chunk is
/// the bounded queue between the stages: memory stays flat however many files there are, and
/// every output depends only on its own input, never on `--jobs`, `--batch` or the order.
public final class PipelineRunner: @unchecked Sendable {
    public let plan: PipelinePlan
    public let options: PipelineOptions
    /// tEXt chunks every output gets.
    public let provenance: [(key: String, text: String)]
    /// Told of each item as it finishes (from worker threads).
    public var itemFinished: (@Sendable (ItemReport) -> Void)?
    /// Stages split at the batch stages: frame stages, batch stage, frame stages, ...
    private let segments: [[any FrameStage]]
    private let batchStages: [any BatchStage]

    public init(plan: PipelinePlan, options: PipelineOptions) throws {
        self.plan = plan
        self.options = options
        var segs: [[any FrameStage]] = [[]]
        var batches: [any BatchStage] = []
        var shape = ChainShape()   // unknown until the files are read; stages that fix a size or planes say so
        for s in plan.stages {
            shape = try s.shape(after: shape)
            if let f = s as? any FrameStage {
                segs[segs.count - 1].append(f)
            } else if let b = s as? any BatchStage {
                batches.append(b)
                segs.append([])
            } else if !(plan.stages.count == 1 && s is any StreamingStage) {
                throw PipelineError.badChain("'\(s.spec)' runs only as the one stage of a chain")
            }
        }
        segments = segs
        batchStages = batches
        var texts: [(String, String)] = [LatentInfo.software, ("latent:chain", plan.chainSpec)]
        for s in plan.stages {
            if let m = s as? ModelStage {
                texts.append(("latent:model", "\(m.modelName) \(m.config.kind.rawValue) \(m.config.architecture) fnv1a64:\(m.modelHash)"))
            } else if let c = s as? ConvStage {
                texts.append(("latent:model", c.modelDescription))
            }
        }
        provenance = texts
    }

    /// Checks the chain against the inputs' own sizes and colour before anything runs: reads
    /// headers until one input passes every stage's shape check (usually the first); when none
    /// does (a folder of photos for a 28x28 digit model), throws the first file's reason with
    /// the count: one line before any file instead of one failure per file. Unreadable files do
    /// not decide (the run reports them); when some inputs fit, the others fail one by one.
    public func preflight(_ items: [InputItem]) throws {
        var first: (path: String, size: String, error: Error)?
        var misfits = 0
        for item in items {
            guard let r = try? PNGReader(path: item.path, limits: options.limits) else { continue }
            let h = r.header
            r.close()
            var shape = ChainShape(width: h.width, height: h.height, colorPlanes: h.layout.withAlpha(false).channels)
            do {
                for s in plan.stages { shape = try s.shape(after: shape) }
                return
            } catch {
                misfits += 1
                if first == nil { first = (item.path, "\(h.width)x\(h.height) \(h.layout)", error) }
            }
        }
        guard let first else { return }
        let reason: String = if case .geometry(let why) = first.error as? PipelineError { why } else { "\(first.error)" }
        throw PipelineError.geometry((misfits == 1 ? "\(first.path) (\(first.size)) does not fit the chain: " :
            "none of the \(misfits) inputs fits the chain (the first, \(first.path), is \(first.size)): ") + reason)
    }

    /// What the run's settings are, for the outputs' digest: the chain and its models (not the
    /// version: a newer latent computing the same thing does not make outputs stale).
    var settingsText: String { provenance.filter { $0.key != LatentInfo.software.key }.map { "\($0.key)=\($0.text)" }.joined(separator: "\n") }

    /// The digest an output of `item` carries (`latent:digest`): the settings, and the input's
    /// identity (canonical path, size and modification time). An existing output with the same
    /// digest is up to date.
    func digest(for item: InputItem) -> String {
        var st = stat()
        let id = stat(item.path, &st) == 0 ? "\(st.st_size) \(st.st_mtim.tv_sec).\(st.st_mtim.tv_nsec)" : "?"
        var h = FNV1a()
        h.add((settingsText + (options.keepMetadata ? "" : "\nstrip") + "\u{0}" + item.canonicalPath + "\u{0}" + id).utf8)
        return String(h.value, radix: 16)
    }

    /// What is at `item`'s output path already.
    enum Existing { case none, current, stale, foreign }

    func existing(_ item: InputItem, digest: String) -> Existing {
        guard let out = outputPath(for: item), FileManager.default.fileExists(atPath: out) else { return .none }
        guard let r = try? PNGReader(path: out, limits: options.limits) else { return .foreign }
        let texts = Dictionary(r.texts.map { ($0.key, $0.text) }, uniquingKeysWith: { a, _ in a })
        r.close()
        guard texts["latent:chain"] != nil || texts["latent:source"] != nil else { return .foreign }
        return texts["latent:digest"] == digest ? .current : .stale
    }

    /// What a run does with an item, given what is at its output path (`--dry-run` lists it).
    public enum Intent: Sendable, Equatable {
        case write, replaceStale, skipUpToDate, refuseForeign
    }

    /// The one decision both the run and `--dry-run` use.
    func intent(_ item: InputItem, digest: String) -> Intent {
        guard let out = outputPath(for: item) else { return .write }
        if options.overwrite { return FileManager.default.fileExists(atPath: out) ? .replaceStale : .write }
        switch existing(item, digest: digest) {
        case .none: return .write
        case .current: return .skipUpToDate
        case .stale: return .replaceStale
        case .foreign: return .refuseForeign
        }
    }

    /// Whether to process `item`, and the outcome to report when it is skipped or refused (or,
    /// for a stale output replaced without --overwrite, after it is done).
    func decide(_ item: InputItem, digest: String) -> (process: Bool, outcome: ItemOutcome?) {
        switch intent(item, digest: digest) {
        case .write: return (true, nil)
        case .replaceStale: return (true, options.overwrite ? nil : .replacedStale)
        case .skipUpToDate: return (false, .skipped)
        case .refuseForeign:
            return (false, .failed("\(outputPath(for: item)!): exists and was not written by latent; not replaced (use --overwrite, or another output folder)"))
        }
    }

    public func intents(_ items: [InputItem]) -> [(item: InputItem, output: String?, intent: Intent)] {
        items.map { ($0, outputPath(for: $0), intent($0, digest: digest(for: $0))) }
    }

    /// The stage files stream through whole (file to file, memory independent of the image's
    /// height): a chain of that one stage writing PNGs.
    var streamingStage: (any StreamingStage)? {
        guard plan.stages.count == 1, plan.sink.folder != nil else { return nil }
        return plan.stages[0] as? any StreamingStage
    }

    /// The provenance of `item`'s output: the run's, its source, its digest.
    func outputTexts(_ item: InputItem, digest: String) -> [(key: String, text: String)] {
        provenance + [("latent:source", item.relativeOutput), ("latent:digest", digest)]
    }

    /// Where `item`'s PNG goes (folder sinks).
    public func outputPath(for item: InputItem) -> String? {
        if case .file(let f) = plan.sink { return f }
        guard case .folder(let dir) = plan.sink else { return nil }
        return (dir as NSString).appendingPathComponent(item.relativeOutput)
    }

    enum Failure: Error {
        case png(PNGError)
        case pipeline(PipelineError)

        var message: String {
            switch self {
            case .png(let e): return e.description
            case .pipeline(let e): return e.description
            }
        }
    }

    /// Reads one input into a frame.
    func read(_ item: InputItem, index: Int) throws -> Frame {
        let (img, kept) = try PNGReader.readKeeping(path: item.path, limits: options.limits)
        var frame = Frame(item: item, index: index, image: FloatImage(img), layout: img.layout, depth: img.depth)
        if options.keepMetadata { frame.kept = kept }
        return frame
    }

    /// Runs the stages on a chunk: results in chunk order.
    func process(_ items: ArraySlice<InputItem>, firstIndex: Int, skip: [Bool]) -> [Result<Frame, Failure>?] {
        let n = items.count
        let base = items.startIndex
        var results = parallelMap(n, jobs: options.jobs) { i -> Result<Frame, Failure>? in
            if skip[i] { return nil }
            do {
                var f = try self.read(items[base + i], index: firstIndex + i)
                for s in self.segments[0] { f = try s.apply(f) }
                return .success(f)
            } catch let e as PNGError { return .failure(.png(e)) }
            catch let e as PipelineError { return .failure(.pipeline(e)) }
            catch { return .failure(.pipeline(.frame(file: items[base + i].path, reason: "\(error)"))) }
        }
        for (k, stage) in batchStages.enumerated() {
            var idx: [Int] = []
            var frames: [Frame] = []
            for (i, r) in results.enumerated() { if case .success(let f)? = r { idx.append(i); frames.append(f) } }
            if !frames.isEmpty {
                for (i, r) in zip(idx, stage.apply(frames)) { results[i] = r.mapError { .pipeline($0) } }
            }
            let after = segments[k + 1]
            if !after.isEmpty {
                let current = results
                results = parallelMap(n, jobs: options.jobs) { i in
                    guard case .success(var f)? = current[i] else { return current[i] }
                    do {
                        for s in after { f = try s.apply(f) }
                        return .success(f)
                    } catch let e as PipelineError { return .failure(.pipeline(e)) }
                    catch { return .failure(.pipeline(.frame(file: f.item.path, reason: "\(error)"))) }
                }
            }
        }
        return results
    }

    /// Runs the chain over `items` and returns the frames instead of writing them (for tests and
    /// for callers that want the floats).
    public func frames(_ items: [InputItem]) -> [Result<Frame, Error>] {
        process(items[...], firstIndex: 0, skip: [Bool](repeating: false, count: items.count)).map { r in
            switch r! {
            case .success(let f): return .success(f)
            case .failure(let e): return .failure(e)
            }
        }
    }

    /// Runs the chain and writes the results. `progress` is called after each item.
    public func run(items: [InputItem], progress: (@Sendable (BatchProgress) -> Void)? = nil) throws -> [ItemOutcome] {
        var outcomes = [ItemOutcome](repeating: .skipped, count: items.count)
        var counts = BatchProgress(total: items.count)
        var codeLines: [String] = []
        prepareFolders(items)
        if let stage = streamingStage { return runStreaming(stage, items: items, progress: progress) }
        var start = 0
        var chunk = min(64, max(1, items.count))
        while start < items.count {
            let end = min(items.count, start + chunk)
            let slice = items[start..<end]
            let digests = slice.map { digest(for: $0) }
            let decisions = zip(slice, digests).map { decide($0, digest: $1) }
            let results = process(slice, firstIndex: start, skip: decisions.map { !$0.process })
            // Adapt the chunk to the images' size: about chunkPixels decoded pixels at once.
            var pixels = 0, seen = 0
            for case .success(let f)? in results { pixels += f.image.data.count; seen += 1 }
            if seen > 0 {
                let per = max(1, pixels / seen)
                chunk = max(options.jobs, min(options.maxChunkImages, options.chunkPixels / per))
            }
            switch plan.sink {
            case .folder, .file:
                let written = writeChunk(results, digests: digests, decisions: decisions)
                for (i, (o, texts)) in written.enumerated() {
                    outcomes[start + i] = o
                    itemFinished?(ItemReport(item: slice[slice.startIndex + i], outcome: o, seconds: nil, texts: texts))
                }
            case .codes(_, let csv):
                for (i, r) in results.enumerated() { outcomes[start + i] = Self.collectCode(r, csv: csv, into: &codeLines) }
            }
            for o in outcomes[start..<end] { counts.count(o) }
            progress?(counts)
            start = end
        }
        if case .codes(let path, let csv) = plan.sink { try writeCodes(codeLines, to: path, csv: csv) }
        return outcomes
    }

    /// Makes the output folders and clears stale temporary files in them.
    private func prepareFolders(_ items: [InputItem]) {
        guard let dir = plan.sink.folder else { return }
        var dirs = Set<String>([dir])
        for item in items { dirs.insert((outputPath(for: item)! as NSString).deletingLastPathComponent) }
        for d in dirs.sorted() {
            try? FileManager.default.createDirectory(atPath: d, withIntermediateDirectories: true)
            AtomicOutput.removeStale(in: d)
        }
    }

    /// Writes a chunk's outputs (atomically, with provenance and the kept chunks) on `jobs`
    /// threads: each item's outcome and the texts its stages added.
    private func writeChunk(_ results: [Result<Frame, Failure>?], digests: [String],
                            decisions: [(process: Bool, outcome: ItemOutcome?)]) -> [(ItemOutcome, [(key: String, text: String)])] {
        parallelMap(results.count, jobs: options.jobs) { i -> (ItemOutcome, [(key: String, text: String)]) in
            guard let r = results[i] else { return (decisions[i].outcome ?? .skipped, []) }
            switch r {
            case .failure(let e): return (.failed(e.message), [])
            case .success(let f):
                let out = self.outputPath(for: f.item)!
                do {
                    let img = f.image.pngImage(layout: f.layout, depth: f.depth)
                    try AtomicOutput.writePNG(img, to: out, compression: self.options.compression,
                                              texts: f.kept.texts + self.outputTexts(f.item, digest: digests[i]) + f.texts,
                                              metadata: f.kept.metadata(for: f.layout))
                    if let w = f.texts.first(where: { $0.key == "latent:warning" }) { return (.warned(w.text), f.texts) }
                    return (decisions[i].outcome ?? .done, f.texts)
                } catch let e as PNGError { return (.failed(e.description), []) }
                catch { return (.failed("\(out): \(error)"), []) }
            }
        }
    }

    /// One item's latent code as a CSV or JSON line.
    private static func collectCode(_ r: Result<Frame, Failure>?, csv: Bool, into lines: inout [String]) -> ItemOutcome {
        switch r {
        case nil: return .skipped
        case .failure(let e)?: return .failed(e.message)
        case .success(let f)?:
            let code = (f.code ?? []).map { String($0) }
            lines.append(csv ? csvField(f.item.relativeOutput) + "," + code.joined(separator: ",")
                             : "{\"file\":\(jsonQuote(f.item.path)),\"code\":[" + code.joined(separator: ",") + "]}")
            return .done
        }
    }

    /// The codes file, written atomically (CSV with a header row, or JSON lines).
    private func writeCodes(_ lines: [String], to path: String, csv: Bool) throws {
        var text = ""
        if csv, let enc = plan.stages.last as? EncodeStage {
            text = "file," + (0..<enc.latent).map { "z\($0)" }.joined(separator: ",") + "\n"
        }
        text += lines.map { $0 + "\n" }.joined()
        try AtomicOutput.write(to: path) { tmp in
            guard let fp = fopen(tmp, "wb") else { throw PNGError.writeFailed(file: path, reason: String(cString: strerror(errno))) }
            let bytes = Array(text.utf8)
            let ok = fwrite(bytes, 1, bytes.count, fp) == bytes.count
            guard fclose(fp) == 0, ok else { throw PNGError.writeFailed(file: path, reason: String(cString: strerror(errno))) }
        }
    }
}

extension PipelineRunner {
    /// Streams each file through `stage` on `jobs` threads (fewer files than jobs: the spare
    /// threads share each image's tiles).
    func runStreaming(_ stage: any StreamingStage, items: [InputItem], progress: (@Sendable (BatchProgress) -> Void)?) -> [ItemOutcome] {
        let jobs = options.jobs
        let tileJobs = max(1, jobs / max(1, min(jobs, items.count)))
        return BatchRunner.run(count: items.count, jobs: jobs, progress: progress) { k, partial in
            let item = items[k]
            let out = self.outputPath(for: item)!
            let digest = self.digest(for: item)
            let decision = self.decide(item, digest: digest)
            guard decision.process else {
                self.itemFinished?(ItemReport(item: item, outcome: decision.outcome!, seconds: nil, texts: []))
                return decision.outcome!
            }
            let started = DispatchTime.now().uptimeNanoseconds
            let (outcome, texts) = self.streamOne(stage, item: item, output: out, digest: digest, decision: decision, tileJobs: tileJobs, partial: partial)
            self.itemFinished?(ItemReport(item: item, outcome: outcome, seconds: Double(DispatchTime.now().uptimeNanoseconds - started) / 1e9, texts: texts))
            return outcome
        }
    }

    private func streamOne(_ stage: any StreamingStage, item: InputItem, output out: String, digest: String,
                           decision: (process: Bool, outcome: ItemOutcome?), tileJobs: Int,
                           partial: @escaping @Sendable (Double) -> Void) -> (ItemOutcome, [(key: String, text: String)]) {
        do {
            let streamed = try stage.streamFile(input: item.path, output: out, limits: options.limits, compression: options.compression,
                                                texts: outputTexts(item, digest: digest), keepMetadata: options.keepMetadata,
                                                tileJobs: tileJobs, progress: partial)
            if let w = streamed.warnings.first { return (.warned(w), streamed.texts) }
            return (decision.outcome ?? .done, streamed.texts)
        } catch { return (.failed("\(error)"), []) }
    }
}
