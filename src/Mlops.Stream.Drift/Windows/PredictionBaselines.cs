using System.Collections.Concurrent;
using System.Collections.Immutable;

namespace Mlops.Stream.Drift.Windows;

/// <summary>One version's prediction baseline: its first window with predictions, as histograms.</summary>
/// <param name="Start">The baseline window's first served time.</param>
/// <param name="End">The baseline window's last served time.</param>
/// <param name="Rows">Rows with predictions it held.</param>
/// <param name="Probabilities">Per class, its probability's histogram (quantile edges), named like the output; null for a class with no finite value.</param>
/// <param name="PredictedClass">The predicted classes, as a sample (Jensen-Shannon compares their shares) and a one-bin-per-class profile.</param>
public sealed record PredictionBaseline(
    DateTimeOffset Start,
    DateTimeOffset End,
    int Rows,
    ImmutableArray<FeatureReference?> Probabilities,
    FeatureReference PredictedClass);

/// <summary>
/// The prediction baseline of each version of one model, taken from the first window with
/// predictions that the job closes for the version and kept for the job's life (its stream's
/// restarts included), so every later window is compared to the same early traffic. Thread-safe.
/// </summary>
public sealed class PredictionBaselines
{
    private readonly ConcurrentDictionary<int, PredictionBaseline> _baselines = new();

    /// <summary>The baseline of <paramref name="version"/>, or null while it has none.</summary>
    public PredictionBaseline? Get(int version) => _baselines.GetValueOrDefault(version);

    /// <summary>Sets <paramref name="version"/>'s baseline unless it has one; returns the one kept.</summary>
    public PredictionBaseline Offer(int version, PredictionBaseline baseline) => _baselines.GetOrAdd(version, baseline);
}
