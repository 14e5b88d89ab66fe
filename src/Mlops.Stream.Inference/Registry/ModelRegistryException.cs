namespace Mlops.Stream.Inference.Registry;

/// <summary>What went wrong with a registry entry, for callers that react differently (e.g. 404 vs 500).</summary>
public enum ModelRegistryError
{
    /// <summary>The model, version or a file of it does not exist.</summary>
    NotFound,

    /// <summary>A file exists but cannot be parsed or loaded.</summary>
    Corrupt,

    /// <summary>model.onnx does not have the sha256 its manifest records.</summary>
    ChecksumMismatch,

    /// <summary>The model's inputs/outputs differ from the manifest's.</summary>
    SignatureMismatch,

    /// <summary>The version already exists, or an alias points at a missing version.</summary>
    Conflict,

    /// <summary>An argument is not acceptable (bad name, weight out of range, ...).</summary>
    Invalid,

    /// <summary>An upload holds more bytes than it may.</summary>
    TooLarge,

    /// <summary>
    /// The registry's backend cannot be reached or answered with a server error (MLflow down, a
    /// timeout); trying again later may succeed. The folder registry never reports it.
    /// </summary>
    Unavailable,
}

/// <summary>A registry operation failed; the message names the file or entry and the problem.</summary>
public sealed class ModelRegistryException(ModelRegistryError error, string message, Exception? inner = null)
    : Exception(message, inner)
{
    public ModelRegistryError Error { get; } = error;
}
