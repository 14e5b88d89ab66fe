using System.Collections.Immutable;
using System.Text.Json.Serialization;
using Mlops.Stream.Inference.Wire;

namespace Mlops.Stream.Inference.Registry.Mlflow.Internal;

// The JSON of MLflow's REST API (mlflow/protos/model_registry.proto and mlflow_artifacts.proto, as
// the server's message_to_json writes them: snake_case field names, version numbers as strings,
// int64 timestamps as numbers, empty lists left out). Only the fields this backend reads or writes.

internal sealed record MlflowTag(string Key, string? Value);

internal sealed record MlflowAlias(string Alias, string Version);

internal sealed record MlflowRegisteredModel(string Name)
{
    public long? CreationTimestamp { get; init; }
    public List<MlflowTag>? Tags { get; init; }
    public List<MlflowAlias>? Aliases { get; init; }
}

internal sealed record MlflowModelVersion(string Name, string Version)
{
    public long? CreationTimestamp { get; init; }
    public string? CurrentStage { get; init; }
    public string? Source { get; init; }

    /// <summary><c>PENDING_REGISTRATION</c>, <c>FAILED_REGISTRATION</c> or <c>READY</c>.</summary>
    public string? Status { get; init; }
    public List<MlflowTag>? Tags { get; init; }
}

internal sealed record MlflowFileInfo(string Path)
{
    public bool? IsDir { get; init; }
    public long? FileSize { get; init; }
}

internal sealed record SearchRegisteredModelsResponse(List<MlflowRegisteredModel>? RegisteredModels, string? NextPageToken);

internal sealed record SearchModelVersionsResponse(List<MlflowModelVersion>? ModelVersions, string? NextPageToken);

internal sealed record RegisteredModelResponse(MlflowRegisteredModel? RegisteredModel);

internal sealed record ModelVersionResponse(MlflowModelVersion? ModelVersion);

internal sealed record DownloadUriResponse(string? ArtifactUri);

internal sealed record ListArtifactsResponse(List<MlflowFileInfo>? Files);

internal sealed record MlflowErrorBody(string? ErrorCode, string? Message);

internal sealed record CreateRegisteredModelRequest(string Name);

internal sealed record CreateModelVersionRequest(string Name, string Source, List<MlflowTag> Tags, string? Description);

internal sealed record SetAliasRequest(string Name, string Alias, string Version);

internal sealed record DeleteAliasRequest(string Name, string Alias);

internal sealed record SetRegisteredModelTagRequest(string Name, string Key, string Value);

internal sealed record DeleteRegisteredModelTagRequest(string Name, string Key);

internal sealed record SetModelVersionTagRequest(string Name, string Version, string Key, string Value);

internal sealed record DeleteModelVersionTagRequest(string Name, string Version, string Key);

internal sealed record TransitionStageRequest(string Name, string Version, string Stage, bool ArchiveExistingVersions);

/// <summary>
/// <see cref="MlflowTags.ManifestFileName"/>: what the folder registry's manifest holds beside
/// identity and checksum. Read leniently (unknown fields, such as a name or version written by
/// hand, are ignored).
/// </summary>
internal sealed record MlflowManifestDocument : ModelMetadata
{
    [JsonConstructor]
    public MlflowManifestDocument() { }

    /// <summary>What a registration declared, with the signature the model was found to have.</summary>
    public MlflowManifestDocument(ModelMetadata declared, ModelSignature signature) : base(declared)
    {
        Inputs = signature.Inputs;
        Outputs = signature.Outputs;
    }

    public ImmutableArray<TensorSpec> Inputs { get; init; } = [];
    public ImmutableArray<TensorSpec> Outputs { get; init; } = [];

    [JsonIgnore]
    public ModelSignature? Signature => Inputs.IsDefaultOrEmpty || Outputs.IsDefaultOrEmpty ? null : new(Inputs, Outputs);

    /// <summary>A registration of <paramref name="model"/> declaring what this document declares (its signature included, when it has one).</summary>
    public ModelRegistration ToRegistration(string model) => new(model, ReadOnlyMemory<byte>.Empty)
    {
        Signature = Signature,
        FeatureNames = FeatureNames,
        Labels = Labels,
        Batching = Batching,
        ReferenceProfile = ReferenceProfile,
        SampleRequest = SampleRequest,
        Description = Description,
    };
}

/// <summary>Source-generated serializers for MLflow's REST JSON (snake_case; numbers also read from strings, as older servers wrote int64s).</summary>
[JsonSourceGenerationOptions(
    PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower,
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    NumberHandling = JsonNumberHandling.AllowReadingFromString)]
[JsonSerializable(typeof(SearchRegisteredModelsResponse))]
[JsonSerializable(typeof(SearchModelVersionsResponse))]
[JsonSerializable(typeof(RegisteredModelResponse))]
[JsonSerializable(typeof(ModelVersionResponse))]
[JsonSerializable(typeof(DownloadUriResponse))]
[JsonSerializable(typeof(ListArtifactsResponse))]
[JsonSerializable(typeof(MlflowErrorBody))]
[JsonSerializable(typeof(CreateRegisteredModelRequest))]
[JsonSerializable(typeof(CreateModelVersionRequest))]
[JsonSerializable(typeof(SetAliasRequest))]
[JsonSerializable(typeof(DeleteAliasRequest))]
[JsonSerializable(typeof(SetRegisteredModelTagRequest))]
[JsonSerializable(typeof(DeleteRegisteredModelTagRequest))]
[JsonSerializable(typeof(SetModelVersionTagRequest))]
[JsonSerializable(typeof(DeleteModelVersionTagRequest))]
[JsonSerializable(typeof(TransitionStageRequest))]
internal sealed partial class MlflowJsonContext : JsonSerializerContext;

/// <summary>The manifest document in the folder registry's manifest style (snake_case, indented for humans).</summary>
[JsonSourceGenerationOptions(
    PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower,
    WriteIndented = true,
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(MlflowManifestDocument))]
internal sealed partial class MlflowManifestJsonContext : JsonSerializerContext;
