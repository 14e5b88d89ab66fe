using System.Collections.Immutable;
using System.Security.Cryptography;
using System.Text.Json.Serialization;
using Mlops.Stream.Inference.Wire;

namespace Mlops.Stream.Inference.Registry;

/// <summary>
/// Everything the service needs to know about one immutable model version, stored beside the
/// model as <c>manifest.json</c>. Name, version, creation time and sha256 are assigned by the
/// registry at registration; the rest (<see cref="ModelMetadata"/>) comes from the <see cref="ModelRegistration"/>.
/// </summary>
public sealed record ModelManifest : ModelMetadata
{
    [JsonConstructor]
    public ModelManifest() { }

    /// <summary>A manifest carrying what a registration declared about the model.</summary>
    public ModelManifest(ModelMetadata declared) : base(declared) { }

    public required string Name { get; init; }

    public required int Version { get; init; }

    /// <summary>Registration time, UTC.</summary>
    public required DateTimeOffset Created { get; init; }

    /// <summary>Lower-case hex SHA-256 of model.onnx; checked on every open.</summary>
    public required string Sha256 { get; init; }

    /// <summary>Inputs in v2 terms (datatype "FP32", shape with -1 on the batch axis).</summary>
    public required ImmutableArray<TensorSpec> Inputs { get; init; }

    public required ImmutableArray<TensorSpec> Outputs { get; init; }

    [JsonIgnore]
    public ModelSignature Signature => new(Inputs, Outputs);

    /// <summary>Lower-case hex SHA-256 of model bytes, the form manifests record.</summary>
    public static string Sha256Of(ReadOnlySpan<byte> modelBytes) => Convert.ToHexStringLower(SHA256.HashData(modelBytes));
}

/// <summary>
/// The model's own batching advice; settings may override it. <paramref name="DispatchWhenIdle"/>:
/// run a request at once when the model is free (null, the default, means true); false waits up to
/// <paramref name="MaxQueueDelayMs"/> for batch-mates as Triton does (see <see cref="Batching.BatchingSettings.DispatchWhenIdle"/>).
/// <paramref name="Instances"/>: batches that may run at once (null means 1; see <see cref="Batching.BatchingSettings.Instances"/>).
/// <paramref name="LatencyObjectiveMs"/>: tune the batch size to keep queue + inference time under it (null: off;
/// see <see cref="Batching.BatchingSettings.LatencyObjective"/>). <paramref name="MaxQueueSize"/>: requests that may wait
/// (null: 16 batches' worth; a model served one row at a time may want a deeper queue than 16).
/// </summary>
public sealed record BatchingHints(
    int MaxBatchSize, int MaxQueueDelayMs, bool? DispatchWhenIdle = null, int? Instances = null, double? LatencyObjectiveMs = null, int? MaxQueueSize = null)
{
    public static BatchingHints Default { get; } = new(32, 5);
}
