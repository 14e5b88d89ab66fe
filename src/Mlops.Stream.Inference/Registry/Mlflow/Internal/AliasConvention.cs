using System.Collections.Immutable;
using System.Globalization;

namespace Mlops.Stream.Inference.Registry.Mlflow.Internal;

/// <summary>
/// Where our aliases live in MLflow, and how a change of them is written there. Either MLflow 2.x
/// aliases (<see cref="AliasModeConvention"/>) or, for servers without aliases, the Production stage
/// plus registered-model tags (<see cref="StageModeConvention"/>). In both, a canary's weight is its
/// version's <see cref="MlflowTags.CanaryWeight"/> tag.
/// </summary>
internal abstract class AliasConvention(MlflowRegistrySettings settings)
{
    protected MlflowRegistrySettings Settings { get; } = settings;

    public static AliasConvention For(MlflowRegistrySettings settings) =>
        settings.ServeFrom == MlflowServingSource.Stage ? new StageModeConvention(settings) : new AliasModeConvention(settings);

    /// <summary>Our aliases of <paramref name="model"/>, from what MLflow holds.</summary>
    public ModelAliases Read(MlflowRegisteredModel model, IReadOnlyDictionary<int, MlflowVersion> versions)
    {
        var entries = ImmutableSortedDictionary.CreateBuilder<string, AliasTarget>(StringComparer.Ordinal);
        foreach (var (alias, version) in ReadTargets(model, versions))
        {
            if (!versions.TryGetValue(version, out var target)) continue;   // an alias at a version not READY (or gone) is not ours to serve
            entries[alias] = alias == ModelAliases.CanaryAlias ? new AliasTarget(version, target.CanaryWeight) : new AliasTarget(version);
        }
        return new ModelAliases(entries.ToImmutable());
    }

    /// <summary>
    /// Writes the change from <paramref name="before"/> to <paramref name="after"/>: removals first,
    /// production last, so a node polling in between never sees the new production beside aliases
    /// that contradict it (a canary of the version being promoted). A canary's weight tag is written
    /// before its alias, so the alias never appears without its weight.
    /// </summary>
    public async Task WriteAsync(MlflowRestClient client, string model, ModelAliases before, ModelAliases after, CancellationToken ct)
    {
        foreach (var (alias, target) in before.Entries.Where(e => !after.Entries.ContainsKey(e.Key)))
            await RemoveAsync(client, model, alias, target.Version, ct).ConfigureAwait(false);

        foreach (var (alias, target) in after.Entries.Where(e => e.Key != ModelAliases.ProductionAlias))
        {
            var old = before.Entries.GetValueOrDefault(alias);
            if (old == target) continue;
            if (alias == ModelAliases.CanaryAlias && target.Weight is { } weight)
                await client.SetModelVersionTagAsync(model, target.Version, MlflowTags.CanaryWeight, weight.ToString("R", CultureInfo.InvariantCulture), ct)
                    .ConfigureAwait(false);
            if (old?.Version != target.Version) await SetAsync(client, model, alias, target.Version, ct).ConfigureAwait(false);
        }

        if (after.Entries.GetValueOrDefault(ModelAliases.ProductionAlias) is { } production
            && before.Entries.GetValueOrDefault(ModelAliases.ProductionAlias)?.Version != production.Version)
            await SetAsync(client, model, ModelAliases.ProductionAlias, production.Version, ct).ConfigureAwait(false);
    }

    /// <summary>(our alias, version) pairs as MLflow holds them.</summary>
    protected abstract IEnumerable<(string Alias, int Version)> ReadTargets(MlflowRegisteredModel model, IReadOnlyDictionary<int, MlflowVersion> versions);

    protected abstract Task SetAsync(MlflowRestClient client, string model, string alias, int version, CancellationToken ct);

    protected abstract Task RemoveAsync(MlflowRestClient client, string model, string alias, int version, CancellationToken ct);

    protected static int? Number(string? text) =>
        int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var number) && number > 0 ? number : null;
}

/// <summary>
/// MLflow 2.x aliases (registered-models/alias): <c>Registry:Mlflow:ProductionAlias</c> is our
/// production, <c>CanaryAlias</c> our canary, and every other alias keeps its name (the admin API's
/// <c>previous</c>, <c>undeployed</c>, <c>breaking</c> appear in MLflow as aliases of those names).
/// </summary>
internal sealed class AliasModeConvention(MlflowRegistrySettings settings) : AliasConvention(settings)
{
    protected override IEnumerable<(string Alias, int Version)> ReadTargets(MlflowRegisteredModel model, IReadOnlyDictionary<int, MlflowVersion> versions)
    {
        foreach (var alias in model.Aliases ?? [])
        {
            if (Number(alias.Version) is not { } version) continue;
            var ours = Ours(alias.Alias);
            if (ours is not null) yield return (ours, version);
        }
    }

    protected override Task SetAsync(MlflowRestClient client, string model, string alias, int version, CancellationToken ct) =>
        client.SetAliasAsync(model, Theirs(alias), version, ct);

    protected override Task RemoveAsync(MlflowRestClient client, string model, string alias, int version, CancellationToken ct) =>
        client.DeleteAliasAsync(model, Theirs(alias), ct);

    /// <summary>Our name of an MLflow alias; null for an MLflow alias called production or canary that the settings name something else.</summary>
    private string? Ours(string alias) =>
        alias == Settings.ProductionAlias ? ModelAliases.ProductionAlias
        : alias == Settings.CanaryAlias ? ModelAliases.CanaryAlias
        : alias is ModelAliases.ProductionAlias or ModelAliases.CanaryAlias ? null
        : alias;

    private string Theirs(string alias) => alias switch
    {
        ModelAliases.ProductionAlias => Settings.ProductionAlias,
        ModelAliases.CanaryAlias => Settings.CanaryAlias,
        _ => alias,
    };
}

/// <summary>
/// Servers without aliases: production is the newest version in the <c>Production</c> stage and is
/// changed with transition-stage (archiving the one before; an undeploy archives it); our other
/// aliases are registered-model tags <c>mlops.alias.&lt;name&gt;</c>, as MLflow has no place for them.
/// </summary>
internal sealed class StageModeConvention(MlflowRegistrySettings settings) : AliasConvention(settings)
{
    protected override IEnumerable<(string Alias, int Version)> ReadTargets(MlflowRegisteredModel model, IReadOnlyDictionary<int, MlflowVersion> versions)
    {
        if (versions.Values.Where(v => v.Stage == MlflowTags.ProductionStage).Select(v => (int?)v.Number).Max() is { } production)
            yield return (ModelAliases.ProductionAlias, production);
        foreach (var tag in model.Tags ?? [])
        {
            if (!tag.Key.StartsWith(MlflowTags.AliasPrefix, StringComparison.Ordinal) || Number(tag.Value) is not { } version) continue;
            var alias = tag.Key[MlflowTags.AliasPrefix.Length..];
            if (alias.Length > 0 && alias != ModelAliases.ProductionAlias) yield return (alias, version);
        }
    }

    protected override Task SetAsync(MlflowRestClient client, string model, string alias, int version, CancellationToken ct) =>
        alias == ModelAliases.ProductionAlias
            ? client.TransitionStageAsync(model, version, MlflowTags.ProductionStage, archiveExisting: true, ct)
            : client.SetRegisteredModelTagAsync(model, MlflowTags.AliasPrefix + alias, version.ToString(CultureInfo.InvariantCulture), ct);

    protected override Task RemoveAsync(MlflowRestClient client, string model, string alias, int version, CancellationToken ct) =>
        alias == ModelAliases.ProductionAlias
            ? client.TransitionStageAsync(model, version, MlflowTags.ArchivedStage, archiveExisting: false, ct)
            : client.DeleteRegisteredModelTagAsync(model, MlflowTags.AliasPrefix + alias, ct);
}
