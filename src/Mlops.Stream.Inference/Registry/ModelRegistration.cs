using System.Collections.Immutable;
using Mlops.Stream.Inference.Wire;

namespace Mlops.Stream.Inference.Registry;

/// <summary>What a caller supplies to register a version; the registry adds identity and checksum.</summary>
/// <param name="Model">Model name (see <see cref="ModelName"/>): letters, digits, '_' or '-', starting with a letter or digit.</param>
/// <param name="OnnxModel">The serialized ONNX model.</param>
public sealed record ModelRegistration(string Model, ReadOnlyMemory<byte> OnnxModel) : ModelMetadata
{
    /// <summary>Version to create; null assigns max+1. Registering an existing version fails.</summary>
    public int? Version { get; init; }

    /// <summary>Declared signature; null reads it from the model with ONNX Runtime.</summary>
    public ModelSignature? Signature { get; init; }

    /// <summary>
    /// When the version was created, for a version copied from another registry (the MLflow
    /// backend's local cache keeps MLflow's creation time); null stamps the registration time.
    /// </summary>
    public DateTimeOffset? Created { get; init; }

    /// <summary>
    /// Raw reference values to store beside the model (as <see cref="ReferenceSample.FileName"/>); the
    /// version's reference profile and, when none are declared, its feature names are then taken from
    /// it. Null: the declared <see cref="ModelMetadata.ReferenceProfile"/> (if any) is the reference.
    /// </summary>
    public ReferenceSample? ReferenceSample { get; init; }
}
