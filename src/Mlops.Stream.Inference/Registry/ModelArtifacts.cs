namespace Mlops.Stream.Inference.Registry;

/// <summary>
/// A verified version, ready to be loaded: the bytes have the manifest's sha256 and a signature
/// equal to the manifest's. <see cref="ModelPath"/> is where the bytes came from, when on disk.
/// </summary>
public sealed record ModelArtifacts(ModelManifest Manifest, byte[] ModelBytes, string? ModelPath);
