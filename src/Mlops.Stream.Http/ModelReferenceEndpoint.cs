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
/// histogram drift statistics compare against) and the sample request. Without <c>version</c>, the
/// production version (else the newest). A load generator draws realistic requests from it, and
/// shifts them by standard deviations to provoke drift.
/// </summary>
public sealed record ModelReferenceResponse(
    [property: JsonPropertyName("model")] string Model,
    [property: JsonPropertyName("version")] int Version,
    [property: JsonPropertyName("inputs")] IReadOnlyList<TensorMetadata> Inputs,
    [property: JsonPropertyName("feature_names")] IReadOnlyList<string> FeatureNames,
    [property: JsonPropertyName("features")] IReadOnlyList<FeatureReference> Features,
    [property: JsonPropertyName("sample_request")] JsonElement? SampleRequest);

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
        try
        {
            manifest = await registry.GetManifestAsync(model, chosen, cancellationToken);
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
            [.. manifest.ReferenceProfile.Select(FeatureReference.From)],
            manifest.SampleRequest is { } sample ? JsonSerializer.Deserialize<JsonElement>(InferenceCodec.EncodeRequest(sample)) : null));
    }
}
