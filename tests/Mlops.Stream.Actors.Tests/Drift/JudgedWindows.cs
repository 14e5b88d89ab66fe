using Mlops.Stream.Drift;
using Mlops.Stream.Drift.Windows;

namespace Mlops.Stream.Actors.Tests.Drift;

/// <summary>Closed windows as the drift job publishes them, for what observes them (alerts, the canary guard).</summary>
internal static class JudgedWindows
{
    /// <summary>
    /// A window of four features judged by PSI; when <paramref name="drifted"/>, "amount" and "hour"
    /// drifted, half the features, so the dataset drifted (threshold share 0.5).
    /// </summary>
    public static DriftWindowReport Window(string model, int version, bool drifted)
    {
        var start = new DateTimeOffset(2026, 12, 3, 9, 0, 0, TimeSpan.Zero);
        FeatureDrift[] features = [Feature("amount", drifted), Feature("hour", drifted), Feature("v1", false), Feature("v2", false)];
        var dataset = new DatasetDrift(4, 4, drifted ? 2 : 0, drifted ? 0.5 : 0, 0.5, drifted ? DriftVerdict.Drifted : DriftVerdict.Stable);
        return new DriftWindowReport(model, version, start, start.AddMinutes(1), WindowClose.Count, 1000, 1000, [], dataset, [.. features]);
    }

    private static FeatureDrift Feature(string name, bool drifted) => new(name, DriftMethod.PopulationStabilityIndex, ReferenceKind.Profile,
        drifted ? 1.2 : 0.01, null, 0.1, drifted ? DriftVerdict.Drifted : DriftVerdict.Stable, new DataQuality(1000, 0, 0));
}
