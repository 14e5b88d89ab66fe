using Mlops.Stream.Inference.Registry.Internal;

namespace Mlops.Stream.Inference.Registry;

/// <summary>
/// An ONNX model received into a temporary file of the registry (see
/// <see cref="IModelRegistry.ReceiveUploadAsync"/>), with its size and sha256 taken on the way in.
/// The upload owns the file until a registration moves it into a version; disposing deletes
/// whatever is still there, so a refused or abandoned upload leaves nothing behind.
/// </summary>
public sealed class ModelUpload : IDisposable
{
    internal ModelUpload(string path, long length, string sha256)
    {
        Path = path;
        Length = length;
        Sha256 = sha256;
    }

    /// <summary>The temporary file; it lies in the registry's folder, so moving it into a version is a rename.</summary>
    public string Path { get; }

    public long Length { get; }

    /// <summary>Lower-case hex, as manifests record it.</summary>
    public string Sha256 { get; }

    public void Dispose() => AtomicFile.TryDelete(Path);
}
