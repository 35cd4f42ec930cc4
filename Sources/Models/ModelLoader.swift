import Foundation

/// A model of either family, as `--model` resolves it.
public enum AnyModel {
    case mlp(LatentModel)
    case conv(ConvDenoiser)
}

/// The one way a model file becomes a model, for both families. It checks before it allocates:
///
/// 1. `SafeTensors.open` reads only the header (its length bounded by the file size first) and
///    checks every tensor's dtype, shape and byte range, in file order;
/// 2. the metadata's `kind` picks the family, and its sizes are range-checked;
/// 3. the number of parameters that architecture implies is computed (overflow-checked) and
///    compared with the values the file holds, so a few bytes of metadata cannot make it build a
///    model of gigabytes;
/// 4. only then are the tensors read, the model built and the tensors imported (names and shapes
///    checked, NaN and infinity refused).
public enum ModelLoader {
    /// Models up to this many parameters are built even when the file holds fewer values, so that
    /// a missing or misshapen tensor is named precisely (it costs at most 32 MB); larger ones must
    /// be backed by the file's data.
    static let smallModel = 1 << 22

    public static func load(path: String) throws -> (model: AnyModel, metadata: [String: String]) {
        let dir = try SafeTensors.open(path: path)
        if ConvModelFile.isConv(dir.metadata) {
            let shape = try ConvModelFile.shape(metadata: dir.metadata, file: path)
            try checkSize(shape.parameterCount, dir)
            return (.conv(try ConvModelFile.make(shape, tensors: dir.readTensors(), file: path, metadata: dir.metadata)), dir.metadata)
        }
        let config = try ModelFile.config(of: dir)
        try checkSize(config.parameterCount, dir)
        let tensors = try dir.readTensors()
        let model = ModelFile.make(config, seed: 0)
        try model.importTensors(tensors, file: path)
        return (.mlp(model), dir.metadata)
    }

    /// The architecture's parameter count against the file's values (see step 3).
    static func checkSize(_ implied: Int?, _ dir: SafeTensors.Directory) throws {
        let held = dir.valueCount
        guard let implied else {
            throw ModelFileError.badMetadata(file: dir.file, reason: "the metadata describes a model too large to count")
        }
        if implied > held && implied > smallModel {
            throw ModelFileError.badMetadata(file: dir.file, reason: "the metadata describes a model of \(implied) parameters, but the file holds \(held) values")
        }
    }
}

extension BuiltinModels {
    /// Resolves `--model` (a built-in name or a file) to a model of either family.
    public static func resolveAny(_ spec: String) throws -> (model: AnyModel, metadata: [String: String], path: String) {
        let path = try file(of: spec)
        let (model, meta) = try ModelLoader.load(path: path)
        return (model, meta, path)
    }
}
