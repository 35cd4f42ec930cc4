import Imaging
import PNGIO
import FileIO

/// An image travelling through a pipeline: Float planes in [0, 1] (colour planes first, then
/// alpha if `layout` has one), where it came from, and the bit depth it had on disk (kept for
/// the output unless a stage changes it).
public struct Frame: Sendable {
    public var item: InputItem
    /// Position in the input list (outputs never depend on processing order).
    public var index: Int
    public var image: FloatImage
    public var layout: PixelLayout
    public var depth: Int
    /// Latent code, once an `encode` stage has run.
    public var code: [Float]?
    /// Provenance the stages add for this image (for instance the noise level a model was told),
    /// written after the run's own.
    public var texts: [(key: String, text: String)] = []
    /// What the output keeps of the input file's ancillary chunks (none with `--strip`).
    public var kept: KeptChunks = .none

    public init(item: InputItem, index: Int, image: FloatImage, layout: PixelLayout, depth: Int) {
        precondition(image.channels == layout.channels, "frame planes do not match its layout")
        self.item = item
        self.index = index
        self.image = image
        self.layout = layout
        self.depth = depth
    }

    public var width: Int { image.width }
    public var height: Int { image.height }
    /// Number of colour planes (1 or 3), not counting alpha.
    public var colorPlanes: Int { layout.colorChannels }
}
