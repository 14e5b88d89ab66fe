using System.Collections.Immutable;
using System.Text.Json.Serialization;
using Mlops.Stream.Inference.Registry.Internal;

namespace Mlops.Stream.Inference.Registry;

/// <summary>Where an alias points; <see cref="Weight"/> is the share of traffic for a canary.</summary>
public sealed record AliasTarget(int Version, double? Weight = null);

/// <summary>
/// Named pointers to versions, stored as <c>aliases.json</c>:
/// <c>{"production": 3, "canary": {"version": 4, "weight": 0.1}}</c>. Immutable; With/Without
/// return copies, and the registry replaces the whole file atomically.
/// </summary>
[JsonConverter(typeof(ModelAliasesJsonConverter))]
public sealed class ModelAliases
{
    public const string ProductionAlias = "production";

    public const string CanaryAlias = "canary";

    public ModelAliases(ImmutableSortedDictionary<string, AliasTarget> entries)
    {
        Entries = entries;
    }

    public static ModelAliases Empty { get; } = new(ImmutableSortedDictionary<string, AliasTarget>.Empty.WithComparers(StringComparer.Ordinal));

    public ImmutableSortedDictionary<string, AliasTarget> Entries { get; }

    /// <summary>The version serving by default, if any.</summary>
    public int? Production => Entries.TryGetValue(ProductionAlias, out var target) ? target.Version : null;

    /// <summary>The canary version and its traffic weight, if any.</summary>
    public AliasTarget? Canary => Entries.GetValueOrDefault(CanaryAlias);

    public int? Resolve(string alias) => Entries.TryGetValue(alias, out var target) ? target.Version : null;

    public ModelAliases With(string alias, AliasTarget target) => new(Entries.SetItem(alias, target));

    public ModelAliases With(string alias, int version, double? weight = null) => With(alias, new AliasTarget(version, weight));

    public ModelAliases Without(string alias) => new(Entries.Remove(alias));

    public override string ToString() =>
        Entries.Count == 0
            ? "(no aliases)"
            : string.Join(", ", Entries.Select(e => e.Value.Weight is { } w ? $"{e.Key}={e.Value.Version}@{w}" : $"{e.Key}={e.Value.Version}"));
}
