using System.Collections.Immutable;
using System.Text.Json;
using Mlops.Stream.Inference.Registry;

namespace Mlops.Stream.Drift.Tests;

/// <summary>A window's counts over the reference's bins: what a report draws beside the reference's own counts.</summary>
public sealed class BinCountsTests
{
    // Edges 0, 10, 20, 30: bins [0, 10), [10, 20), [20, 30].
    private static readonly FeatureProfile Profile = new("x", [0, 10, 20, 30], [5, 3, 2], 12, 8, 10);

    [Fact]
    public void Values_outside_the_edges_count_in_the_first_or_last_bin_and_non_finite_values_not_at_all()
    {
        var counts = BinCounts.Of(Profile, [-5, 0, 9.9, 10, 25, 30, 99, double.NaN, double.PositiveInfinity]);

        Assert.Equal([3L, 1, 3], counts.Counts.ToArray());
        Assert.Equal(7, counts.Total);
    }

    [Fact]
    public void An_empty_window_counts_zero_in_every_bin()
    {
        Assert.Equal([0L, 0, 0], BinCounts.Of(Profile, []).Counts.ToArray());
    }

    [Fact]
    public void Counts_compare_by_value_and_default_is_empty()
    {
        Assert.Equal(BinCounts.Of(Profile, [1, 15]), new BinCounts([1, 1, 0]));
        Assert.NotEqual(BinCounts.Of(Profile, [1, 15]), new BinCounts([1, 0, 1]));
        Assert.Empty(default(BinCounts).Counts.ToArray());
    }

    [Fact]
    public void Every_evaluated_feature_carries_its_windows_counts_whatever_the_method()
    {
        var sampled = References.Sampled(References.Cycle(3, 300));
        double[] window = [0, 1, 1, 2, 2, 2];

        var drift = FeatureDrift.Evaluate(sampled, window, DriftOptions.Default);

        Assert.Equal(DriftMethod.JensenShannon, drift.Method);
        Assert.Equal([1L, 2, 3], drift.CurrentCounts.Counts.ToArray());
    }

    [Fact]
    public void Psi_from_counts_is_psi_from_values_and_counts_of_another_profile_are_refused()
    {
        double[] window = [1, 2, 12, 25, 26, 27];

        Assert.Equal(PopulationStabilityIndex.Compute(Profile, window), PopulationStabilityIndex.Compute(Profile, BinCounts.Of(Profile, window)));
        Assert.Throws<ArgumentException>(() => PopulationStabilityIndex.Compute(Profile, new BinCounts([1, 2])));
    }

    [Theory]
    [InlineData("[1,-2]")]
    [InlineData("[1.5]")]
    [InlineData("{}")]
    public void Json_other_than_an_array_of_whole_counts_is_refused(string json)
    {
        Assert.Throws<JsonException>(() => JsonSerializer.Deserialize<BinCounts>(json));
    }

    [Fact]
    public void Json_is_a_plain_array()
    {
        Assert.Equal("[4,0,7]", JsonSerializer.Serialize(new BinCounts([4, 0, 7])));
        Assert.Equal(new BinCounts(ImmutableArray.Create(4L, 0, 7)), JsonSerializer.Deserialize<BinCounts>("[4,0,7]"));
    }
}
