using System.Collections.Immutable;
using Mlops.Stream.Inference.Wire;

namespace Mlops.Stream.Inference.Registry;

/// <summary>What a caller supplies to register a version; the registry adds identity and checksum.</summary>
/// <param name="Model">Model name: letters, digits, '.', '_' or '-', starting with a letter or digit.</param>
/// <param name="OnnxModel">The serialized ONNX model.</param>
public sealed record ModelRegistration(string Model, ReadOnlyMemory<byte> OnnxModel)
{
    /// <summary>Version to create; null assigns max+1. Registering an existing version fails.</summary>
    public int? Version { get; init; }

    /// <summary>Declared signature; null reads it from the model with ONNX Runtime.</summary>
    public ModelSignature? Signature { get; init; }

    public ImmutableArray<string> FeatureNames { get; init; } = [];

    public ImmutableArray<string> Labels { get; init; } = [];

    public BatchingHints Batching { get; init; } = BatchingHints.Default;

    public ImmutableArray<FeatureProfile> ReferenceProfile { get; init; } = [];

    public InferenceRequest? SampleRequest { get; init; }

    public string? Description { get; init; }
}
