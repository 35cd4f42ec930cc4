/// latent's version: `latent --version` and every output's provenance.
public enum LatentInfo {
    public static let version = "0.1.0"
    /// The tEXt chunk every output of latent carries first.
    public static let software = (key: "Software", text: "latent \(version)")
}
