/// latent's version: `latent --version` and every output's provenance.
public enum LatentInfo {
    public static let version = "0.1.0"
}
