using Mlops.Stream.Drift;
using Mlops.Stream.Drift.Windows;
using Mlops.Stream.Inference.Registry;

namespace Mlops.Stream.Reports;

/// <summary>
/// One feature as a report draws it: the reference's and the latest window's shares per reference
/// bin, and over the recent windows the value its verdict compares with the threshold (KS's
/// p-value, drift below; the distance otherwise, drift above).
/// </summary>
/// <param name="Feature">The feature's name (user data: escape it).</param>
/// <param name="Reference">Its reference profile; null when the profile lacks it.</param>
/// <param name="Latest">Its verdict in the latest window; null when that window did not judge it.</param>
/// <param name="ReferenceShares">Per reference bin, the reference's share; empty without a profile.</param>
/// <param name="CurrentShares">Per reference bin, the latest window's share; null when there is none to draw (see <see cref="NoCurrentReason"/>).</param>
/// <param name="NoCurrentReason">Why <paramref name="CurrentShares"/> is null.</param>
/// <param name="History">Per recent window, oldest first, its end and the compared value (null when not evaluated).</param>
public sealed record FeatureView(
    string Feature,
    FeatureProfile? Reference,
    FeatureDrift? Latest,
    IReadOnlyList<double> ReferenceShares,
    IReadOnlyList<double>? CurrentShares,
    string? NoCurrentReason,
    IReadOnlyList<WindowPoint> History)
{
    /// <summary>True when the verdict compares a p-value, which drifts below its threshold.</summary>
    public bool DriftBelow => Latest?.Method == DriftMethod.KolmogorovSmirnov;

    /// <summary>What <see cref="History"/> plots, for axis captions.</summary>
    public string ValueName => Latest?.Method switch
    {
        DriftMethod.KolmogorovSmirnov => "KS p-value",
        DriftMethod.Wasserstein => "Wasserstein (normalised)",
        DriftMethod.JensenShannon => "Jensen-Shannon distance",
        DriftMethod.PopulationStabilityIndex => "PSI",
        _ => "score",
    };

    internal static FeatureView Of(string name, FeatureProfile? reference, IReadOnlyList<DriftWindowReport> windows)
    {
        var latest = windows.Count == 0 ? null : windows[^1].Features.FirstOrDefault(f => f.Feature == name);
        var referenceShares = reference is null ? [] : Shares(reference.Counts);
        IReadOnlyList<double>? currentShares = null;
        string? reason = null;
        if (latest is null)
        {
            reason = "the latest window did not judge this feature";
        }
        else if (reference is null)
        {
            reason = "the reference profile has no histogram for this feature";
        }
        else if (latest.CurrentCounts.Counts.IsEmpty)
        {
            reason = "the latest window's record has no bin counts (written before windows carried them)";
        }
        else if (latest.CurrentCounts.Counts.Length != reference.Counts.Length)
        {
            reason = $"the latest window counted {latest.CurrentCounts.Counts.Length} bins, the reference has {reference.Counts.Length}";
        }
        else if (latest.CurrentCounts.Total == 0)
        {
            reason = "the latest window had no finite value of this feature";
        }
        else
        {
            currentShares = Shares(latest.CurrentCounts.Counts);
        }

        var history = windows
            .Select(w => w.Features.FirstOrDefault(f => f.Feature == name) is { } f
                ? new WindowPoint(w.End, Compared(f), f.Drifted)
                : new WindowPoint(w.End, null, false))
            .ToList();
        return new FeatureView(name, reference, latest, referenceShares, currentShares, reason, history);
    }

    private static double? Compared(FeatureDrift drift)
    {
        var value = drift.Method == DriftMethod.KolmogorovSmirnov ? drift.PValue : drift.Score;
        return value is { } v && double.IsFinite(v) ? v : null;
    }

    private static double[] Shares(IReadOnlyList<long> counts)
    {
        double total = counts.Sum();
        return [.. counts.Select(c => total > 0 ? c / total : 0)];
    }
}

/// <summary>One window on a feature's history: its end, the compared value (null: not evaluated), and whether it drifted.</summary>
public sealed record WindowPoint(DateTimeOffset End, double? Value, bool Drifted);
