using System.Collections.Immutable;
using Mlops.Stream.Drift;
using Mlops.Stream.Drift.Windows;
using Mlops.Stream.Inference.Registry;

namespace Mlops.Stream.Reports.Tests;

/// <summary>Report inputs built the way the drift job builds windows: profiles from values, windows evaluated by <see cref="FeatureDrift.Evaluate"/>.</summary>
internal static class Reports
{
    public static readonly DateTimeOffset T0 = new(2026, 12, 3, 9, 0, 0, TimeSpan.Zero);

    /// <summary>"amount" 0..999 (10 quantile bins); "flag" a constant 1 (one bin).</summary>
    public static FeatureProfile Amount { get; } = FeatureProfile.FromValues("amount", [.. Enumerable.Range(0, 1000).Select(i => (double)i)]);

    public static FeatureProfile Flag { get; } = FeatureProfile.FromValues("flag", [.. Enumerable.Repeat(1.0, 500)]);

    /// <summary>A window judging each profile against the values given for it (by feature name), ending <paramref name="minute"/> minutes after <see cref="T0"/>.</summary>
    public static DriftWindowReport Window(int minute, IReadOnlyList<FeatureProfile> profiles, Func<string, double[]> values, string model = "fraud-demo")
    {
        var features = profiles.Select(p => FeatureDrift.Evaluate(new FeatureReference(p), values(p.Feature), DriftOptions.Default)).ToImmutableArray();
        var rows = values(profiles[0].Feature).Length;
        return new DriftWindowReport(model, 1, T0.AddMinutes(minute - 1), T0.AddMinutes(minute), WindowClose.Count, rows, rows,
            [new PartitionOffsets(0, minute * 100, (minute * 100) + rows - 1)], DatasetDrift.Of(features, DriftOptions.Default), features);
    }

    /// <summary>Values spread like the reference (0..999), or shifted up by <paramref name="shift"/>.</summary>
    public static double[] Spread(int n, double shift = 0) => [.. Enumerable.Range(0, n).Select(i => (i * 999.0 / (n - 1)) + shift)];

    public static DriftReportInput Input(params DriftWindowReport[] windows) =>
        new("fraud-demo", 1, [Amount, Flag], windows, T0.AddHours(1));
}
