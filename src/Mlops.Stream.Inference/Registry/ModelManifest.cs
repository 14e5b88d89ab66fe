using System.Collections.Immutable;
using System.Security.Cryptography;
using System.Text.Json.Serialization;
using Mlops.Stream.Inference.Wire;

namespace Mlops.Stream.Inference.Registry;

/// <summary>
/// Everything the service needs to know about one immutable model version, stored beside the
/// model as <c>manifest.json</c>. Name, version, creation time and sha256 are assigned by the
/// registry at registration; the rest comes from the <see cref="ModelRegistration"/>.
/// </summary>
public sealed record ModelManifest
{
    public required string Name { get; init; }

    public required int Version { get; init; }

    /// <summary>Registration time, UTC.</summary>
    public required DateTimeOffset Created { get; init; }

    /// <summary>Lower-case hex SHA-256 of model.onnx; checked on every open.</summary>
    public required string Sha256 { get; init; }

    /// <summary>Inputs in v2 terms (datatype "FP32", shape with -1 on the batch axis).</summary>
    public required ImmutableArray<TensorSpec> Inputs { get; init; }

    public required ImmutableArray<TensorSpec> Outputs { get; init; }

    /// <summary>Names of the columns of the (single) feature input, in column order.</summary>
    public ImmutableArray<string> FeatureNames { get; init; } = [];

    /// <summary>Class labels in the order of the probability columns.</summary>
    public ImmutableArray<string> Labels { get; init; } = [];

    public BatchingHints Batching { get; init; } = BatchingHints.Default;

    /// <summary>Per-feature histograms of the reference (training) data, the baseline for drift.</summary>
    public ImmutableArray<FeatureProfile> ReferenceProfile { get; init; } = [];

    /// <summary>A valid v2 request, used to warm the model up before it takes traffic.</summary>
    public InferenceRequest? SampleRequest { get; init; }

    public string? Description { get; init; }

    [JsonIgnore]
    public ModelSignature Signature => new(Inputs, Outputs);

    /// <summary>Lower-case hex SHA-256 of model bytes, the form manifests record.</summary>
    public static string Sha256Of(ReadOnlySpan<byte> modelBytes) => Convert.ToHexStringLower(SHA256.HashData(modelBytes));
}

/// <summary>The model's own batching advice (Triton dynamic-batcher semantics); settings may override it.</summary>
public sealed record BatchingHints(int MaxBatchSize, int MaxQueueDelayMs)
{
    public static BatchingHints Default { get; } = new(32, 5);
}
