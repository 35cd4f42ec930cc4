import Foundation

/// Why a model file was refused. Every case names the file.
public enum ModelFileError: Error, Equatable, CustomStringConvertible {
    case unreadable(file: String, reason: String)
    case truncated(file: String, reason: String)
    case badHeader(file: String, reason: String)
    case unsupportedDType(file: String, tensor: String, dtype: String)
    case offsetsOutOfRange(file: String, tensor: String, reason: String)
    case missingTensor(file: String, tensor: String)
    case unexpectedTensor(file: String, tensor: String)
    case wrongShape(file: String, tensor: String, expected: [Int], found: [Int])
    case nonFinite(file: String, tensor: String)
    case badMetadata(file: String, reason: String)
    case writeFailed(file: String, reason: String)

    public var description: String {
        switch self {
        case .unreadable(let f, let r): return "\(f): cannot read model file: \(r)"
        case .truncated(let f, let r): return "\(f): truncated model file: \(r)"
        case .badHeader(let f, let r): return "\(f): not a valid safetensors file: \(r)"
        case .unsupportedDType(let f, let t, let d): return "\(f): tensor '\(t)' has dtype \(d); only F32 is supported"
        case .offsetsOutOfRange(let f, let t, let r): return "\(f): tensor '\(t)': \(r)"
        case .missingTensor(let f, let t): return "\(f): tensor '\(t)' is missing"
        case .unexpectedTensor(let f, let t): return "\(f): unexpected tensor '\(t)' for this architecture"
        case .wrongShape(let f, let t, let e, let s): return "\(f): tensor '\(t)' has shape \(s), expected \(e)"
        case .nonFinite(let f, let t): return "\(f): tensor '\(t)' contains NaN or infinity"
        case .badMetadata(let f, let r): return "\(f): \(r)"
        case .writeFailed(let f, let r): return "\(f): cannot write: \(r)"
        }
    }
}

/// A named F32 tensor with its PyTorch shape.
public struct NamedTensor: Equatable, Sendable {
    public var name: String
    public var shape: [Int]
    public var values: [Float]

    public init(name: String, shape: [Int], values: [Float]) {
        precondition(shape.reduce(1, *) == values.count, "\(name): shape \(shape) does not hold \(values.count) values")
        self.name = name
        self.shape = shape
        self.values = values
    }
}

/// The safetensors format (as written by PyTorch and Hugging Face): an 8-byte little-endian
/// header length N, N bytes of JSON mapping each tensor name to {dtype, shape, data_offsets}
/// (offsets relative to the end of the header) plus an optional "__metadata__" object of
/// strings, then the raw little-endian tensor data.
public enum SafeTensors {
    /// Largest header accepted (the format's own reference limit is 100 MB).
    public static let maxHeaderBytes = 100_000_000

    public static func encode(_ tensors: [NamedTensor], metadata: [String: String]) -> Data {
        var header: [String: Any] = [:]
        if !metadata.isEmpty { header["__metadata__"] = metadata }
        var offset = 0
        for t in tensors {
            let bytes = t.values.count * 4
            header[t.name] = ["dtype": "F32", "shape": t.shape, "data_offsets": [offset, offset + bytes]] as [String: Any]
            offset += bytes
        }
        var json = try! JSONSerialization.data(withJSONObject: header, options: [.sortedKeys])
        while json.count % 8 != 0 { json.append(0x20) }
        var out = Data(capacity: 8 + json.count + offset)
        var n = UInt64(json.count).littleEndian
        withUnsafeBytes(of: &n) { out.append(contentsOf: $0) }
        out.append(json)
        for t in tensors {
            t.values.withUnsafeBufferPointer { buf in
                // Little-endian hosts only (x86_64, arm64): the bytes are already in file order.
                out.append(UnsafeBufferPointer(start: UnsafeRawPointer(buf.baseAddress!).assumingMemoryBound(to: UInt8.self), count: buf.count * 4))
            }
        }
        return out
    }

    /// Writes atomically: a temporary file beside `path`, renamed when complete.
    public static func write(_ tensors: [NamedTensor], metadata: [String: String], to path: String) throws {
        let data = encode(tensors, metadata: metadata)
        let url = URL(fileURLWithPath: path)
        let tmp = url.deletingLastPathComponent().appendingPathComponent(".\(url.lastPathComponent).latent-tmp-\(getpid())")
        do {
            try data.write(to: tmp)
            if rename(tmp.path, path) != 0 { throw ModelFileError.writeFailed(file: path, reason: String(cString: strerror(errno))) }
        } catch let e as ModelFileError {
            try? FileManager.default.removeItem(at: tmp)
            throw e
        } catch {
            try? FileManager.default.removeItem(at: tmp)
            throw ModelFileError.writeFailed(file: path, reason: error.localizedDescription)
        }
    }

    /// Reads and validates a file: header length within the file, JSON well formed, every tensor
    /// F32 with a shape whose size matches its byte range, ranges inside the data and not
    /// overlapping, no NaN or infinity.
    public static func read(path: String) throws -> (tensors: [String: NamedTensor], metadata: [String: String]) {
        let file = try open(path: path)
        return (try file.readTensors(), file.metadata)
    }

    /// Opens a file and reads only its header: the metadata and the directory of tensors, checked
    /// (see `Directory`); no tensor data is read until `readTensors`.
    public static func open(path: String) throws -> Directory {
        let reader = try FileReader(path: path)
        let n = try headerLength(fileBytes: reader.size, file: path) { try reader.read(at: 0, count: 8).withUnsafeBytes { $0.loadUnaligned(as: UInt64.self) } }
        guard reader.size <= maxFileBytes else { throw ModelFileError.unreadable(file: path, reason: "\(reader.size) bytes is too large for a model file") }
        let header = try reader.read(at: 8, count: n)
        return try Directory(header: header, dataStart: 8 + n, fileBytes: reader.size, file: path) { try reader.read(at: $0, count: $1) }
    }

    /// Largest model file accepted (the shipped models are a few MB).
    public static let maxFileBytes = 1 << 31

    /// A model file opened for reading ranges, after checks that cost nothing: a regular file
    /// (not a folder, FIFO or device). Errors carry the system's own reason.
    final class FileReader {
        let path: String
        let size: Int
        private let fd: Int32

        init(path: String) throws {
            self.path = path
            var st = stat()
            guard stat(path, &st) == 0 else {
                throw ModelFileError.unreadable(file: path, reason: errno == ENOENT ? "no such file" : String(cString: strerror(errno)))
            }
            switch st.st_mode & S_IFMT {
            case S_IFREG: break
            case S_IFDIR: throw ModelFileError.unreadable(file: path, reason: "is a folder")
            default: throw ModelFileError.unreadable(file: path, reason: "not a regular file (a FIFO, socket or device)")
            }
            size = Int(st.st_size)
            fd = Glibc.open(path, O_RDONLY | O_CLOEXEC)
            guard fd >= 0 else { throw ModelFileError.unreadable(file: path, reason: String(cString: strerror(errno))) }
        }

        deinit { close(fd) }

        /// Exactly `count` bytes at `offset` (inside the file, as the caller has checked).
        func read(at offset: Int, count: Int) throws -> Data {
            var data = Data(count: count)
            let got = data.withUnsafeMutableBytes { buf -> Int in
                var done = 0
                while done < count {
                    let r = pread(fd, buf.baseAddress! + done, count - done, off_t(offset + done))
                    if r < 0 && errno == EINTR { continue }
                    if r <= 0 { return r < 0 ? -1 : done }
                    done += r
                }
                return done
            }
            guard got == count else {
                throw ModelFileError.unreadable(file: path, reason: got < 0 ? String(cString: strerror(errno)) : "the file shrank while it was read")
            }
            return data
        }
    }

    /// The header length N from the file's first 8 bytes (`first8`, read only when the file has
    /// them), checked: plausible, and the header inside the file's `fileBytes`.
    static func headerLength(fileBytes: Int, file: String, first8: () throws -> UInt64) throws -> Int {
        guard fileBytes >= 8 else { throw ModelFileError.truncated(file: file, reason: "\(fileBytes) bytes, shorter than the 8-byte header length") }
        let n = UInt64(littleEndian: try first8())
        guard n >= 2, n <= UInt64(maxHeaderBytes) else { throw ModelFileError.badHeader(file: file, reason: "header length \(n) is not plausible") }
        guard 8 + Int(n) <= fileBytes else {
            throw ModelFileError.truncated(file: file, reason: "header claims \(n) bytes but the file has \(fileBytes - 8) after the length")
        }
        return Int(n)
    }

    /// `read` on a file's bytes held in memory.
    public static func decode(_ data: Data, file: String) throws -> (tensors: [String: NamedTensor], metadata: [String: String]) {
        let n = try headerLength(fileBytes: data.count, file: file) { data.withUnsafeBytes { $0.loadUnaligned(as: UInt64.self) } }
        let dir = try Directory(header: data.subdata(in: 8..<(8 + n)), dataStart: 8 + n, fileBytes: data.count, file: file) {
            data.subdata(in: $0..<($0 + $1))
        }
        return (try dir.readTensors(), dir.metadata)
    }

    /// A file's header, checked before any tensor data is read: JSON well formed, `__metadata__`
    /// an object of strings, every tensor F32 with a shape whose element and byte counts
    /// (overflow-checked) match its byte range, ranges inside the file and not overlapping.
    /// Problems are reported in file order (by data offset, then name), so a bad file always gets
    /// the same message.
    public struct Directory {
        public struct Entry: Sendable {
            public var name: String
            public var shape: [Int]
            public var count: Int
            /// Byte offset of the data in the file.
            public var start: Int
        }

        public let file: String
        public let metadata: [String: String]
        /// The tensors in file order.
        public let entries: [Entry]
        private let readBytes: (Int, Int) throws -> Data

        /// Values in all tensors together.
        public var valueCount: Int { entries.reduce(0) { $0 + $1.count } }

        public func entry(_ name: String) -> Entry? { entries.first { $0.name == name } }

        init(header headerData: Data, dataStart base: Int, fileBytes: Int, file: String, readBytes: @escaping (Int, Int) throws -> Data) throws {
            self.file = file
            self.readBytes = readBytes
            let obj: Any
            do { obj = try JSONSerialization.jsonObject(with: headerData) } catch {
                let detail = ((error as NSError).userInfo[NSDebugDescriptionErrorKey] as? String).map { " (\($0))" } ?? ""
                throw ModelFileError.badHeader(file: file, reason: "the header is not valid JSON\(detail)")
            }
            guard let header = obj as? [String: Any] else {
                throw ModelFileError.badHeader(file: file, reason: "the header is not a JSON object")
            }
            metadata = try Self.metadata(header, file: file)
            let raw = try Self.rawEntries(header, available: fileBytes - base, file: file)
            entries = try Self.ordered(raw, dataStart: base, file: file)
        }

        typealias RawEntry = (name: String, shape: [Int], offs: [Int])

        /// The header's `__metadata__`: string values only.
        private static func metadata(_ header: [String: Any], file: String) throws -> [String: String] {
            guard let value = header["__metadata__"] else { return [:] }
            guard let m = value as? [String: Any] else { throw ModelFileError.badHeader(file: file, reason: "__metadata__ is not an object") }
            var metadata: [String: String] = [:]
            for k in m.keys.sorted() {
                guard let s = m[k] as? String else { throw ModelFileError.badHeader(file: file, reason: "metadata '\(k)' is not a string") }
                metadata[k] = s
            }
            return metadata
        }

        /// The entries' own form, in name order, each checked alone (their offsets cannot be
        /// trusted yet): F32, a well-formed shape, an aligned range within the `available` data bytes.
        private static func rawEntries(_ header: [String: Any], available: Int, file: String) throws -> [RawEntry] {
            var raw: [RawEntry] = []
            for name in header.keys.sorted() where name != "__metadata__" {
                guard let entry = header[name] as? [String: Any], let dtype = entry["dtype"] as? String,
                      let shapeAny = entry["shape"] as? [Any], let offAny = entry["data_offsets"] as? [Any], offAny.count == 2 else {
                    throw ModelFileError.badHeader(file: file, reason: "tensor '\(name)' lacks dtype, shape or data_offsets")
                }
                guard dtype == "F32" else { throw ModelFileError.unsupportedDType(file: file, tensor: name, dtype: dtype) }
                let shape = shapeAny.compactMap { integer($0) }
                let offs = offAny.compactMap { integer($0) }
                guard shape.count == shapeAny.count, shape.count <= 8, shape.allSatisfy({ $0 >= 0 && $0 < 1 << 31 }), offs.count == 2 else {
                    throw ModelFileError.badHeader(file: file, reason: "tensor '\(name)' has a malformed shape or offsets")
                }
                guard offs[0] >= 0, offs[1] >= offs[0] else {
                    throw ModelFileError.offsetsOutOfRange(file: file, tensor: name, reason: "data_offsets \(offs) are not a range")
                }
                guard offs[1] <= available else {
                    throw ModelFileError.truncated(file: file, reason: "tensor '\(name)' needs data bytes up to \(offs[1]), the file holds \(available)")
                }
                guard offs[0] % 4 == 0 else {
                    throw ModelFileError.offsetsOutOfRange(file: file, tensor: name, reason: "data_offsets \(offs) are not aligned to its 4-byte values")
                }
                raw.append((name, shape, offs))
            }
            return raw
        }

        /// The entries in file order, their sizes checked against their shapes (overflow-checked:
        /// a shape of 2³¹ x 2³¹ is refused, not a trap) and against overlaps.
        private static func ordered(_ raw: [RawEntry], dataStart base: Int, file: String) throws -> [Entry] {
            var entries: [Entry] = []
            var previous: (end: Int, name: String)?
            for (name, shape, offs) in raw.sorted(by: { ($0.offs[0], $0.offs[1], $0.name) < ($1.offs[0], $1.offs[1], $1.name) }) {
                var count: Int? = 1
                for d in shape { count = count.flatMap { c in let (v, o) = c.multipliedReportingOverflow(by: d); return o ? nil : v } }
                let bytes = count.flatMap { c -> Int? in let (v, o) = c.multipliedReportingOverflow(by: 4); return o ? nil : v }
                guard let count, let bytes, offs[1] - offs[0] == bytes else {
                    throw ModelFileError.offsetsOutOfRange(file: file, tensor: name, reason: "data_offsets \(offs) hold \(offs[1] - offs[0]) bytes, shape \(shape) needs "
                        + (bytes.map { "\($0)" } ?? "more than can be addressed"))
                }
                if let previous, offs[0] < previous.end {
                    throw ModelFileError.offsetsOutOfRange(file: file, tensor: name, reason: "its data overlaps tensor '\(previous.name)'")
                }
                if bytes > 0 { previous = (offs[1], name) }
                entries.append(Entry(name: name, shape: shape, count: count, start: base + offs[0]))
            }
            return entries
        }

        /// A JSON number that is an integer (not 2.5).
        private static func integer(_ v: Any) -> Int? {
            guard let n = v as? NSNumber else { return nil }
            let d = n.doubleValue
            guard d == d.rounded(), abs(d) < 9e15 else { return nil }
            return n.intValue
        }

        /// Reads every tensor's data, in file order; NaN or infinity is refused.
        public func readTensors() throws -> [String: NamedTensor] {
            var tensors: [String: NamedTensor] = [:]
            for e in entries {
                let bytes = try readBytes(e.start, e.count * 4)
                var values = [Float](repeating: 0, count: e.count)
                values.withUnsafeMutableBytes { dst in bytes.withUnsafeBytes { dst.copyMemory(from: $0) } }
                if values.contains(where: { !$0.isFinite }) { throw ModelFileError.nonFinite(file: file, tensor: e.name) }
                tensors[e.name] = NamedTensor(name: e.name, shape: e.shape, values: values)
            }
            return tensors
        }
    }
}
