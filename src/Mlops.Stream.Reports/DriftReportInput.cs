using System.Collections.Immutable;
using Mlops.Stream.Drift.Windows;
using Mlops.Stream.Inference.Registry;

namespace Mlops.Stream.Reports;

/// <summary>
/// What a drift report shows: one model version's recent windows, as its drift topic holds them,
/// and the reference profile they were judged against.
/// </summary>
/// <param name="Model">The model.</param>
/// <param name="Version">The version whose windows these are.</param>
/// <param name="Reference">The version's reference profile, per feature (its manifest's); empty when it has none.</param>
/// <param name="Windows">The version's recent windows, oldest first; the last is the one the summary describes.</param>
/// <param name="GeneratedAt">When the report was made, printed on it.</param>
public sealed record DriftReportInput(
    string Model,
    int Version,
    ImmutableArray<FeatureProfile> Reference,
    IReadOnlyList<DriftWindowReport> Windows,
    DateTimeOffset GeneratedAt)
{
    /// <summary>The window the summary describes; null when there is none yet.</summary>
    public DriftWindowReport? Latest => Windows.Count == 0 ? null : Windows[^1];

    /// <summary>
    /// The features the report covers: the reference profile's, in its order, then any the latest
    /// window judged that the profile lacks (a profile changed under a running job), so nothing
    /// the window says is hidden.
    /// </summary>
    public IReadOnlyList<FeatureView> Features()
    {
        var names = Reference.Select(p => p.Feature).ToList();
        if (Latest is { } latest)
        {
            names.AddRange(latest.Features.Select(f => f.Feature).Where(f => !names.Contains(f)));
        }

        return [.. names.Select(Feature)];
    }

    /// <summary>One feature's view, or null when neither the profile nor the latest window knows it.</summary>
    public FeatureView? FindFeature(string name) =>
        Reference.Any(p => p.Feature == name) || (Latest?.Features.Any(f => f.Feature == name) ?? false) ? Feature(name) : null;

    private FeatureView Feature(string name) => FeatureView.Of(name, Reference.FirstOrDefault(p => p.Feature == name), Windows);
}
