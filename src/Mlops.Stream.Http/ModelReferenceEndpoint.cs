using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;
using Microsoft.AspNetCore.Http;
using Mlops.Stream.Inference.Registry;
using Mlops.Stream.Inference.Wire;

namespace Mlops.Stream.Http;

/// <summary>
/// <c>GET /api/v1/models/{model}/reference[?version=N]</c>: what a version's manifest says about its
/// data: inputs, feature names, the reference profile (per feature: mean, standard deviation and the
/// histogram drift statistics compare against) and the sample request. When the version has a
/// reference sample, the profile is the sample's (equal to the manifest's when the sample came with
/// the registration; newer after <c>mlops drift baseline</c>). Without <c>version</c>, the
/// production version (else the newest). A load generator draws realistic requests from it, and
/// shifts them by standard deviations to provoke drift.
/// </summary>
public sealed record ModelReferenceResponse(
    [property: JsonPropertyName("model")] string Model,
    [property: JsonPropertyName("version")] int Version,
    [property: JsonPropertyName("inputs")] IReadOnlyList<TensorMetadata> Inputs,
    [property: JsonPropertyName("feature_names")] IReadOnlyList<string> FeatureNames,
    [property: JsonPropertyName("features")] IReadOnlyList<FeatureReference> Features,
    [property: JsonPropertyName("sample_request")] JsonElement? SampleRequest)
{
    /// <summary><c>sample</c> when the features come from the version's stored reference sample (uploaded, or set by a baseline), <c>profile</c> when from its manifest.</summary>
    [JsonPropertyName("source")]
    public string Source { get; init; } = "profile";

    /// <summary>Rows of the reference sample; absent without one.</summary>
    [JsonPropertyName("sample_rows"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public int? SampleRows { get; init; }
}

/// <summary>One feature of the reference profile: bin i covers [edges[i], edges[i+1]) and holds counts[i] reference values.</summary>
public sealed record FeatureReference(
    [property: JsonPropertyName("name")] string Name,
    [property: JsonPropertyName("mean")] double Mean,
    [property: JsonPropertyName("std_dev")] double StdDev,
    [property: JsonPropertyName("count")] long Count,
    [property: JsonPropertyName("edges")] IReadOnlyList<double> Edges,
    [property: JsonPropertyName("counts")] IReadOnlyList<long> Counts)
{
    public static FeatureReference From(FeatureProfile profile) =>
        new(profile.Feature, profile.Mean, profile.StdDev, profile.Count, profile.Edges, profile.Counts);
}

internal static class ModelReferenceEndpoint
{
    public static async Task<IResult> GetAsync(string model, string? version, IModelRegistry registry, CancellationToken cancellationToken)
    {
        if (!await TopicsApi.IsRegisteredAsync(registry, model, cancellationToken)) return TopicsApi.ModelNotFound(model);
        int chosen;
        if (version is not null)
        {
            if (!int.TryParse(version, NumberStyles.None, CultureInfo.InvariantCulture, out chosen) || chosen < 1)
                return TopicsApi.Error(StatusCodes.Status400BadRequest, $"version '{version}' is not a positive integer", HttpErrorCodes.InvalidVersion);
        }
        else
        {
            chosen = (await registry.GetAliasesAsync(model, cancellationToken)).Production
                ?? (await registry.ListVersionsAsync(model, cancellationToken)).Max();
        }

        ModelManifest manifest;
        ReferenceSample? sample;
        try
        {
            manifest = await registry.GetManifestAsync(model, chosen, cancellationToken);
            sample = await registry.GetReferenceSampleAsync(model, chosen, cancellationToken);
        }
        catch (ModelRegistryException e) when (e.Error == ModelRegistryError.NotFound)
        {
            return TopicsApi.Error(StatusCodes.Status404NotFound, e.Message, HttpErrorCodes.ModelNotFound);
        }

        return TypedResults.Ok(new ModelReferenceResponse(
            model,
            manifest.Version,
            [.. manifest.Inputs.Select(TensorMetadata.From)],
            manifest.FeatureNames,
            [.. (sample?.Profile() ?? manifest.ReferenceProfile).Select(FeatureReference.From)],
            manifest.SampleRequest is { } request ? JsonSerializer.Deserialize<JsonElement>(InferenceCodec.EncodeRequest(request)) : null)
        {
            Source = sample is null ? "profile" : "sample",
            SampleRows = sample?.Rows,
        });
    }
}
