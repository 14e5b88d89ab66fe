using System.Collections.Immutable;
using Mlops.Stream.Drift.Windows;
using Mlops.Stream.Inference.Registry;
using static Mlops.Stream.Drift.Tests.Windows.ServedEvents;

namespace Mlops.Stream.Drift.Tests.Windows;

/// <summary>
/// A version whose reference changes while its windows run (a baseline set by an operator): the
/// window open at the change is judged against the reference it started with, the next against the
/// new one; and a reference built from a sample judges by the exact two-sample tests.
/// </summary>
public sealed class ReferenceChangeTests
{
    private static readonly double[] Row = [50, 12];

    [Fact]
    public void A_changed_reference_applies_from_the_versions_next_window_not_half_way()
    {
        var profileOnly = Reference();
        VersionReference current = profileOnly;
        var windows = new DriftWindows(Model, _ => current, new WindowOptions { MaxEvents = 4 });
        for (var i = 0; i < 2; i++) windows.Add(Event(Row, T0.AddSeconds(i)), 0, i);

        current = Sampled(profileOnly);
        var closed = new List<DriftWindowReport>();
        for (var i = 2; i < 8; i++) closed.AddRange(windows.Add(Event(Row, T0.AddSeconds(i)), 0, i).Closed);
        closed.AddRange(windows.Add(Event(Row, T0.AddSeconds(8)), 0, 8).Closed);

        Assert.Equal(2, closed.Count);
        // The window open when the reference changed: the profile (PSI).
        Assert.All(closed[0].Features, f => Assert.Equal((DriftMethod.PopulationStabilityIndex, ReferenceKind.Profile), (f.Method, f.Reference)));
        // The next one: the sample, of 200 rows, so KS against it.
        Assert.All(closed[1].Features, f => Assert.Equal((DriftMethod.KolmogorovSmirnov, ReferenceKind.Sample), (f.Method, f.Reference)));
    }

    [Fact]
    public void A_reference_from_a_manifest_and_its_sample_takes_features_columns_and_profile_from_the_sample()
    {
        var random = new Random(5);
        var sample = ReferenceSample.Of(["amount", "hour"], [
            [.. Enumerable.Range(0, 300).Select(_ => 50 + (10 * random.NextDouble()))],
            [.. Enumerable.Range(0, 300).Select(_ => 12 + (3 * random.NextDouble()))]]);
        var manifest = new ModelManifest
        {
            Name = Model, Version = 3, Created = T0, Sha256 = "00", Inputs = [], Outputs = [], Labels = ["legit", "fraud"],
        };

        var reference = VersionReference.FromManifest(manifest, sample);

        Assert.Equal(["amount", "hour"], reference.Columns.ToArray());
        Assert.Equal(sample.Profile(), reference.Features.Select(f => f.Profile), new ProfileComparer());
        Assert.Same(sample.Columns[1], reference.Features[1].Sample);
        Assert.Equal(["legit", "fraud"], reference.ClassLabels.ToArray());
    }

    /// <summary>The same reference with a 200-row sample per feature drawn from its profile.</summary>
    private static VersionReference Sampled(VersionReference reference)
    {
        var random = new Random(9);
        var rows = Enumerable.Range(0, 200).Select(_ => Draw(reference, random)).ToArray();
        var features = reference.Features.Select((f, c) =>
        {
            var column = rows.Select(r => r[c]).ToArray();
            return new FeatureReference(FeatureProfile.FromValues(f.Feature, column), column);
        });
        return new VersionReference(reference.Version, [.. features], reference.Columns);
    }

    private sealed class ProfileComparer : IEqualityComparer<FeatureProfile>
    {
        public bool Equals(FeatureProfile? x, FeatureProfile? y) =>
            x is not null && y is not null && x.Feature == y.Feature && x.Edges.SequenceEqual(y.Edges) && x.Counts.SequenceEqual(y.Counts) && x.Mean == y.Mean;

        public int GetHashCode(FeatureProfile obj) => obj.Feature.GetHashCode(StringComparison.Ordinal);
    }
}
