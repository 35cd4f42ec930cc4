import Foundation
import Testing
@testable import Models
@testable import NN
import Tensor
@testable import Training
import TestSupport

struct ModelFileTests {
    let dir = makeTempDir("files")

    func savedModel(_ kind: ModelKind = .vae) throws -> (LatentModel, String) {
        let config = ModelConfig(kind: kind, width: 8, height: 8, hidden: [16], latent: 3,
                                 noise: kind == .dae ? .mask(p: 0.2) : nil, sparsity: kind == .sparse ? .kl(target: 0.05, weight: 3) : nil)
        let model = ModelFile.make(config, seed: 11)
        let path = dir + "/\(kind.rawValue).safetensors"
        try ModelFile.save(model, to: path, extra: ["note": "test"])
        return (model, path)
    }

    @Test(arguments: ModelKind.allCases)
    func saveLoadRoundTripIsBitExact(_ kind: ModelKind) throws {
        let (model, path) = try savedModel(kind)
        let (loaded, meta) = try ModelFile.load(path: path)
        #expect(loaded.config == model.config)
        #expect(meta["note"] == "test")
        #expect(meta["format_version"] == ModelConfig.formatVersion)
        for (a, b) in zip(model.parameters, loaded.parameters) {
            #expect(a.value.array.map(\.bitPattern) == b.value.array.map(\.bitPattern), "\(a.name)")
        }
        // And the model computes the same thing.
        let x = batchMatrix(syntheticDataset(count: 4, seed: 1), 4)
        #expect(model.reconstruct(x).array == loaded.reconstruct(x).array)
    }

    @Test func fileLayoutIsSafetensors() throws {
        let (_, path) = try savedModel()
        let data = FileManager.default.contents(atPath: path)!
        let n = Int(data.withUnsafeBytes { UInt64(littleEndian: $0.loadUnaligned(as: UInt64.self)) })
        let header = try JSONSerialization.jsonObject(with: data.subdata(in: 8..<(8 + n))) as! [String: Any]
        let w = header["encoder.0.weight"] as! [String: Any]
        #expect(w["dtype"] as? String == "F32")
        #expect(w["shape"] as? [Int] == [16, 64])  // [out, in] as PyTorch's Linear
        #expect((header["mu.weight"] as! [String: Any])["shape"] as? [Int] == [3, 16])
        #expect((header["__metadata__"] as! [String: String])["kind"] == "vae")
        #expect((8 + n) % 8 == 0)
    }

    func expectError(_ data: Data, _ check: (ModelFileError) -> Bool) {
        let path = dir + "/bad-\(UUID().uuidString.prefix(6)).safetensors"
        #expect(FileManager.default.createFile(atPath: path, contents: data), "could not write \(path)")
        do {
            _ = try ModelFile.load(path: path)
            Issue.record("loaded a bad file")
        } catch let e as ModelFileError {
            #expect(check(e), "unexpected error \(e)")
            #expect(e.description.hasPrefix(path))
        } catch {
            Issue.record("wrong error type \(error)")
        }
    }

    func rewrite(_ transform: (inout [String: NamedTensor], inout [String: String]) -> Void) throws -> Data {
        let (_, path) = try savedModel()
        var (t, m) = try SafeTensors.read(path: path)
        transform(&t, &m)
        return SafeTensors.encode(t.values.sorted { $0.name < $1.name }, metadata: m)
    }

    @Test func truncatedFiles() throws {
        let (_, path) = try savedModel()
        let data = FileManager.default.contents(atPath: path)!
        expectError(data.prefix(5)) { if case .truncated = $0 { return true }; return false }
        expectError(data.prefix(200)) { if case .truncated = $0 { return true }; return false }
        // Header intact, tensor data cut short: offsets now point past the end, reported as truncation.
        expectError(data.prefix(data.count - 100)) { if case .truncated(_, let r) = $0 { return r.contains("needs data bytes up to") }; return false }
    }

    @Test func headerOffsetsOutOfRange() throws {
        func file(_ header: String, dataBytes: Int) -> Data {
            var h = Data(header.utf8)
            while h.count % 8 != 0 { h.append(0x20) }
            var d = Data()
            var n = UInt64(h.count).littleEndian
            withUnsafeBytes(of: &n) { d.append(contentsOf: $0) }
            return d + h + Data(count: dataBytes)
        }
        // Range past the end of the data: the file is cut short.
        expectError(file(#"{"mu.bias":{"dtype":"F32","shape":[3],"data_offsets":[0,12]}}"#, dataBytes: 8)) {
            if case .truncated(_, let r) = $0 { return r.contains("'mu.bias' needs data bytes up to 12, the file holds 8") }; return false
        }
        // A range that is not one.
        expectError(file(#"{"mu.bias":{"dtype":"F32","shape":[3],"data_offsets":[12,0]}}"#, dataBytes: 16)) {
            if case .offsetsOutOfRange(_, "mu.bias", _) = $0 { return true }; return false
        }
        // Range that does not match the shape.
        expectError(file(#"{"mu.bias":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}}"#, dataBytes: 16)) {
            if case .offsetsOutOfRange(_, "mu.bias", let r) = $0 { return r.contains("needs 12") }; return false
        }
        // Two tensors sharing bytes.
        expectError(file(#"{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}}"#, dataBytes: 16)) {
            if case .offsetsOutOfRange(_, _, let r) = $0 { return r.contains("overlaps") }; return false
        }
        // Negative offsets.
        expectError(file(#"{"a":{"dtype":"F32","shape":[1],"data_offsets":[-4,0]}}"#, dataBytes: 16)) {
            if case .offsetsOutOfRange = $0 { return true }; return false
        }
        // A shape whose byte count overflows (this trapped with SIGILL before).
        expectError(file(#"{"a":{"dtype":"F32","shape":[2147483647,2147483647],"data_offsets":[0,0]}}"#, dataBytes: 0)) {
            if case .offsetsOutOfRange(_, "a", let r) = $0 { return r.contains("needs 18446744") || r.contains("more than") }; return false
        }
        expectError(file(#"{"a":{"dtype":"F32","shape":[2147483647,2147483647,2147483647],"data_offsets":[0,0]}}"#, dataBytes: 0)) {
            if case .offsetsOutOfRange(_, "a", let r) = $0 { return r.contains("more than can be addressed") }; return false
        }
        // Several bad tensors: the same one is reported every time.
        let many = file(#"{"b":{"dtype":"F32","shape":[9],"data_offsets":[0,4]},"a":{"dtype":"F32","shape":[9],"data_offsets":[0,4]},"c":{"dtype":"F32","shape":[9],"data_offsets":[0,4]}}"#, dataBytes: 4)
        for _ in 0..<5 { expectError(many) { if case .offsetsOutOfRange(_, "a", _) = $0 { return true }; return false } }
    }

    @Test func absurdHeaderLength() {
        var d = Data()
        var n = UInt64(1 << 40).littleEndian
        withUnsafeBytes(of: &n) { d.append(contentsOf: $0) }
        d.append(Data("{}".utf8))
        expectError(d) { if case .badHeader = $0 { return true }; return false }
        expectError(Data([8, 0, 0, 0, 0, 0, 0, 0]) + Data("not json".utf8)) { if case .badHeader = $0 { return true }; return false }
    }

    @Test func wrongShapes() throws {
        let d = try rewrite { t, _ in t["encoder.0.weight"] = NamedTensor(name: "encoder.0.weight", shape: [64, 16], values: t["encoder.0.weight"]!.values) }
        expectError(d) {
            if case .wrongShape(_, "encoder.0.weight", [16, 64], [64, 16]) = $0 { return true }; return false
        }
    }

    @Test func missingAndUnexpectedTensors() throws {
        expectError(try rewrite { t, _ in t["decoder.0.bias"] = nil }) { $0 == .missingTensor(file: $0.fileName, tensor: "decoder.0.bias") }
        expectError(try rewrite { t, _ in t["extra.weight"] = NamedTensor(name: "extra.weight", shape: [1], values: [0]) }) {
            if case .unexpectedTensor(_, "extra.weight") = $0 { return true }; return false
        }
    }

    @Test func nanIsRejected() throws {
        let d = try rewrite { t, _ in var w = t["output.weight"]!; w.values[3] = .nan; t["output.weight"] = w }
        expectError(d) { if case .nonFinite(_, "output.weight") = $0 { return true }; return false }
    }

    @Test func otherDTypesAreRejected() throws {
        let (_, path) = try savedModel()
        var data = FileManager.default.contents(atPath: path)!
        let n = Int(data.withUnsafeBytes { UInt64(littleEndian: $0.loadUnaligned(as: UInt64.self)) })
        let header = String(decoding: data.subdata(in: 8..<(8 + n)), as: UTF8.self)
        // Same length: F32 → F16 on the first tensor.
        let changed = header.replacingOccurrences(of: "\"F32\"", with: "\"F16\"")
        data.replaceSubrange(8..<(8 + n), with: Data(changed.utf8))
        expectError(data) { if case .unsupportedDType(_, _, "F16") = $0 { return true }; return false }
    }

    @Test func badMetadata() throws {
        expectError(try rewrite { _, m in m["kind"] = "gan" }) { if case .badMetadata = $0 { return true }; return false }
        expectError(try rewrite { _, m in m["format_version"] = "99" }) { if case .badMetadata(_, let r) = $0 { return r.contains("version 99") }; return false }
        expectError(try rewrite { _, m in m["latent"] = "-3" }) { if case .badMetadata = $0 { return true }; return false }
    }

    @Test func missingFileAndFolder() {
        #expect(throws: ModelFileError.unreadable(file: dir + "/none.safetensors", reason: "no such file")) {
            try ModelFile.load(path: dir + "/none.safetensors")
        }
        #expect(throws: ModelFileError.unreadable(file: dir, reason: "is a folder")) { try ModelFile.load(path: dir) }
        // A FIFO and a device are refused without being opened (a FIFO would block), each with its reason.
        let fifo = dir + "/fifo.safetensors"
        unlink(fifo)
        #expect(mkfifo(fifo, 0o600) == 0)
        defer { unlink(fifo) }
        #expect(throws: ModelFileError.unreadable(file: fifo, reason: "not a regular file (a FIFO, socket or device)")) { try ModelFile.load(path: fifo) }
        #expect(throws: ModelFileError.unreadable(file: "/dev/zero", reason: "not a regular file (a FIFO, socket or device)")) { try ModelFile.load(path: "/dev/zero") }
        // A 20 GB sparse file with a zero header length: refused after reading its first 8 bytes.
        let sparse = dir + "/sparse.safetensors"
        let fd = open(sparse, O_CREAT | O_WRONLY | O_TRUNC, 0o600)
        #expect(fd >= 0 && ftruncate(fd, 20 << 30) == 0)
        close(fd)
        defer { unlink(sparse) }
        #expect(throws: ModelFileError.badHeader(file: sparse, reason: "header length 0 is not plausible")) { try ModelFile.load(path: sparse) }
    }

    /// The parameter counts the loader computes from metadata are the ones the models build.
    @Test func impliedParameterCountsMatchBuiltModels() {
        for kind in ModelKind.allCases {
            for hidden in [[], [7], [9, 5]] {
                let c = ModelConfig(kind: kind, width: 4, height: 3, channels: 3, hidden: hidden, latent: 2)
                #expect(c.parameterCount == ModelFile.make(c, seed: 1).parameterCount, "\(kind) \(hidden)")
            }
        }
        for (blocks, fine, noiseInput, noiseMap) in [(0, 0, false, false), (2, 0, true, false), (1, 0, false, true), (1, 2, false, true)] {
            for ch in [1, 3] {
                let m = ConvDenoiser(channels: ch, widths: (4, 6, 8), blocks: blocks, fineBlocks: fine, noiseInput: noiseInput, noiseMap: noiseMap, seed: 1)
                #expect(ConvDenoiser.parameterCount(channels: ch, widths: (4, 6, 8), blocks: blocks, fineBlocks: fine, noiseInput: noiseInput,
                                                    noiseMap: noiseMap) == m.parameterCount)
            }
        }
    }

    func headerOnly(_ json: String) -> Data {
        let h = Data(json.utf8)
        var d = Data()
        var n = UInt64(h.count).littleEndian
        withUnsafeBytes(of: &n) { d.append(contentsOf: $0) }
        return d + h
    }

    /// A few bytes of metadata describing a huge model are refused before the model is built
    /// (this 114-byte file aborted on a 4.4 TB allocation; the conv one took 1.7 GB).
    @Test func hugeMetadataIsRefusedBeforeAllocating() throws {
        let files = [
            #"{"__metadata__":{"kind":"ae","width":"4096","height":"4096","channels":"1","hidden":"65536","latent":"1"}}"#,
            #"{"__metadata__":{"kind":"vae","width":"28","height":"28","channels":"1","hidden":"16384,16384,16384,16384,16384,16384,16384,16384","latent":"8"}}"#,
            #"{"__metadata__":{"kind":"conv-dae","channels":"3","widths":"1024,1024,1024","blocks":"16"}}"#,
        ]
        for json in files {
            let path = dir + "/huge-\(UUID().uuidString.prefix(6)).safetensors"
            #expect(FileManager.default.createFile(atPath: path, contents: headerOnly(json)), "could not write \(path)")
            #expect(throws: ModelFileError.self) { try ModelLoader.load(path: path) }
            do { _ = try ModelLoader.load(path: path) } catch {
                #expect("\(error)".contains("the metadata describes a model of"), "\(error)")
                #expect("\(error)".contains("the file holds 0 values"), "\(error)")
            }
        }
    }

    /// Two faults in one file: the one first in the file is reported, every time.
    @Test func firstFaultInFileOrder() throws {
        // "z" comes first in the data, "a" later; both have a range that does not match the shape.
        var h = Data(#"{"a":{"dtype":"F32","shape":[3],"data_offsets":[8,12]},"z":{"dtype":"F32","shape":[5],"data_offsets":[0,8]}}"#.utf8)
        while h.count % 8 != 0 { h.append(0x20) }
        var d = Data()
        var n = UInt64(h.count).littleEndian
        withUnsafeBytes(of: &n) { d.append(contentsOf: $0) }
        for _ in 0..<3 { expectError(d + h + Data(count: 16)) { if case .offsetsOutOfRange(_, "z", _) = $0 { return true }; return false } }
    }

    /// The classic PyTorch example's names (fc1, fc21, fc22, fc3, fc4) load without metadata.
    @Test func pytorchExampleNamesLoad() throws {
        let (model, _) = try savedModel()
        let rename = ["encoder.0": "fc1", "mu": "fc21", "logvar": "fc22", "decoder.0": "fc3", "output": "fc4"]
        let tensors = model.exportTensors().map { t -> NamedTensor in
            let parts = t.name.split(separator: ".")
            let base = parts.dropLast().joined(separator: ".")
            return NamedTensor(name: rename[base]! + "." + parts.last!, shape: t.shape, values: t.values)
        }
        let path = dir + "/torch.safetensors"
        try SafeTensors.write(tensors, metadata: [:], to: path)
        let (loaded, _) = try ModelFile.load(path: path)
        #expect(loaded.config.kind == .vae && loaded.config.latent == 3 && loaded.config.hidden == [16])
        let x = batchMatrix(syntheticDataset(count: 3, seed: 2), 3)
        #expect(model.reconstruct(x).array == loaded.reconstruct(x).array)
    }
}

extension ModelFileError {
    var fileName: String {
        switch self {
        case .unreadable(let f, _), .truncated(let f, _), .badHeader(let f, _), .unsupportedDType(let f, _, _),
             .offsetsOutOfRange(let f, _, _), .missingTensor(let f, _), .unexpectedTensor(let f, _), .wrongShape(let f, _, _, _),
             .nonFinite(let f, _), .badMetadata(let f, _), .writeFailed(let f, _):
            return f
        }
    }
}
