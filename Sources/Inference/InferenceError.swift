/// An image a model cannot be run on as asked, naming the file.
public enum InferenceError: Error, Equatable, CustomStringConvertible {
    case image(file: String, reason: String)

    public var file: String {
        switch self { case .image(let f, _): return f }
    }

    public var description: String {
        switch self { case .image(let f, let r): return "\(f): \(r)" }
    }
}
