using System.Collections.Immutable;
using System.Globalization;

namespace Mlops.Stream.Inference.Registry.Mlflow.Internal;

/// <summary>One READY model version as MLflow lists it.</summary>
internal sealed record MlflowVersion(int Number, DateTimeOffset Created, string? Stage, ImmutableDictionary<string, string> Tags)
{
    /// <summary>The sha256 its <see cref="MlflowTags.Sha256"/> tag records, if any.</summary>
    public string? Sha256 => Tags.GetValueOrDefault(MlflowTags.Sha256);

    /// <summary>Its <see cref="MlflowTags.CanaryWeight"/> tag, when it holds a number.</summary>
    public double? CanaryWeight =>
        Tags.TryGetValue(MlflowTags.CanaryWeight, out var text) && double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var weight)
            ? weight
            : null;
}

/// <summary>A registered model as this backend reads it: its READY versions, our aliases, our scale.</summary>
internal sealed record MlflowModelState(string Name, ImmutableSortedDictionary<int, MlflowVersion> Versions, ModelAliases Aliases, ModelScale? Scale)
{
    public static MlflowModelState Missing(string name) => new(name, ImmutableSortedDictionary<int, MlflowVersion>.Empty, ModelAliases.Empty, null);

    /// <summary>What the replicas follow (versions, aliases, scale), to tell a change from a poll that found the same.</summary>
    public string Fingerprint =>
        $"{Name}[{string.Join(",", Versions.Keys)}]{Aliases}|{Scale?.Replicas}/{Scale?.Min}/{Scale?.Max}/{Scale?.LastDecision?.At.ToUnixTimeMilliseconds()}";
}

/// <summary>
/// Everything the registry's reads answer from, read from MLflow at once and replaced whole, so a
/// reader sees one poll's state or the next, never a mix, and reads cost no call to MLflow.
/// </summary>
internal sealed class RegistrySnapshot(ImmutableSortedDictionary<string, MlflowModelState> models)
{
    public static RegistrySnapshot Of(IEnumerable<MlflowModelState> models) =>
        new(models.ToImmutableSortedDictionary(m => m.Name, m => m, StringComparer.Ordinal));

    public ImmutableSortedDictionary<string, MlflowModelState> Models { get; } = models;

    public string Fingerprint => string.Join(";", Models.Values.Select(m => m.Fingerprint));

    /// <summary>This snapshot with <paramref name="model"/> as read just now.</summary>
    public RegistrySnapshot With(MlflowModelState model) => new(Models.SetItem(model.Name, model));
}
