using System.Collections.Concurrent;
using System.Collections.Immutable;
using System.Text.Json;
using Microsoft.Extensions.Logging;
using Mlops.Stream.Inference.Registry.Internal;

namespace Mlops.Stream.Inference.Registry.Mlflow.Internal;

/// <summary>
/// Reads the registry's state from MLflow: the whole of it in two paged searches
/// (registered-models/search for names, tags and aliases; model-versions/search for versions, stages
/// and tags), whatever the number of models, or one model fresh (registered-models/get plus its
/// versions) before a change. Models whose names a node cannot serve (see <see cref="ModelName"/>)
/// are left out, with one warning per name.
/// </summary>
internal sealed class SnapshotReader(MlflowRestClient client, AliasConvention aliases, ILogger logger)
{
    private readonly ConcurrentDictionary<string, bool> _warned = new(StringComparer.Ordinal);

    public async Task<RegistrySnapshot> ReadAsync(CancellationToken ct)
    {
        var models = await client.SearchRegisteredModelsAsync(ct).ConfigureAwait(false);
        var versions = (await client.SearchModelVersionsAsync(null, ct).ConfigureAwait(false)).ToLookup(v => v.Name, StringComparer.Ordinal);
        return RegistrySnapshot.Of(models.Where(m => Servable(m.Name)).Select(m => Build(m, versions[m.Name])));
    }

    /// <summary>One model as MLflow holds it now; <see cref="MlflowModelState.Missing"/> when MLflow does not know it.</summary>
    public async Task<MlflowModelState> ReadModelAsync(string model, CancellationToken ct)
    {
        MlflowRegisteredModel registered;
        try
        {
            registered = await client.GetRegisteredModelAsync(model, ct).ConfigureAwait(false);
        }
        catch (ModelRegistryException e) when (e.Error == ModelRegistryError.NotFound)
        {
            return MlflowModelState.Missing(model);
        }
        return Build(registered, await client.SearchModelVersionsAsync(model, ct).ConfigureAwait(false));
    }

    private MlflowModelState Build(MlflowRegisteredModel model, IEnumerable<MlflowModelVersion> listed)
    {
        var versions = ImmutableSortedDictionary.CreateBuilder<int, MlflowVersion>();
        foreach (var version in listed)
        {
            // A version still being registered (or whose registration failed) has no files to serve yet.
            if (version.Status is not (null or "READY")) continue;
            if (!int.TryParse(version.Version, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var number) || number <= 0)
                continue;
            versions[number] = new MlflowVersion(number, DateTimeOffset.FromUnixTimeMilliseconds(version.CreationTimestamp ?? 0), version.CurrentStage,
                (version.Tags ?? []).Where(t => t.Value is not null).GroupBy(t => t.Key).ToImmutableDictionary(g => g.Key, g => g.Last().Value!));
        }
        var built = versions.ToImmutable();
        return new MlflowModelState(model.Name, built, aliases.Read(model, built), Scale(model));
    }

    private ModelScale? Scale(MlflowRegisteredModel model)
    {
        if ((model.Tags ?? []).LastOrDefault(t => t.Key == MlflowTags.Scale)?.Value is not { } text) return null;
        try
        {
            var scale = JsonSerializer.Deserialize(text, RegistryJsonContext.Default.ModelScale) ?? throw new JsonException("null");
            return scale.Problem() is { } problem ? throw new JsonException(problem) : scale;
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException)
        {
            if (_warned.TryAdd("scale:" + model.Name + text, true))
                logger.LogWarning("MLflow model {Model}: tag {Tag} is not a valid scale ({Error}); one replica per node", model.Name, MlflowTags.Scale, e.Message);
            return null;
        }
    }

    private bool Servable(string name)
    {
        if (ModelName.IsValid(name)) return true;
        if (_warned.TryAdd(name, true))
            logger.LogWarning("MLflow model {Model} is not served: {Problem}", name, ModelName.Problem(name));
        return false;
    }
}
