import PNGIO
import FileIO

/// `--model auto`: the built-in model an image goes to, from its header alone.
public enum AutoModel {
    /// mnist-dae for 28x28 grey images (MNIST digits); photo for everything else (never a colour
    /// image to the grey digit model). An unreadable header goes to photo, whose run reports it.
    public static func name(for header: PNGHeader?) -> String {
        guard let h = header else { return "photo" }
        return h.width == 28 && h.height == 28 && h.layout.colorChannels == 1 ? "mnist-dae" : "photo"
    }

    /// Items grouped by the model `auto` picks for them, in a fixed order of models; each
    /// group's indices in input order.
    public static func route(_ items: [InputItem], limits: PNGLimits) -> [(model: String, indices: [Int])] {
        var groups: [String: [Int]] = [:]
        for (i, item) in items.enumerated() {
            groups[name(for: try? PNGReader(path: item.path, limits: limits).header), default: []].append(i)
        }
        return groups.keys.sorted().map { ($0, groups[$0]!) }
    }
}
