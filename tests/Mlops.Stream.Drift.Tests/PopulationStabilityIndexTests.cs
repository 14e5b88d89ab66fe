using Mlops.Stream.Inference.Registry;

namespace Mlops.Stream.Drift.Tests;

/// <summary>
/// Expected numbers from Debian's python3-scipy 1.10.1 / numpy, with the profile's edges rebuilt as
/// FeatureProfile.FromValues builds them and PSI by its definition:
/// <code>
/// def edges(v, bins=10):
///     s = np.sort(v); q = []
///     for i in range(bins+1):
///         e = s[round(i*(len(s)-1)/bins)]
///         if not q or q[-1] &lt; e: q.append(e)
///     return np.array(q)
/// def psi(r, c, e):
///     rc = np.histogram(np.clip(r, e[0], e[-1]), e)[0]; cc = np.histogram(np.clip(c, e[0], e[-1]), e)[0]
///     rs = np.maximum(rc/rc.sum(), 1e-4); cs = np.maximum(cc/cc.sum(), 1e-4)
///     return np.sum((cs-rs)*np.log(cs/rs))
/// </code>
/// (np.histogram's bins are [e_i, e_i+1) with the last one closed, as FeatureProfile's are.)
/// </summary>
public sealed class PopulationStabilityIndexTests
{
    [Fact]
    public void The_reference_profile_has_the_edges_python_rebuilt()
    {
        // edges(ref) == [0.0, 1.0, ..., 10.0]
        Assert.Equal(Enumerable.Range(0, 11).Select(i => (double)i), Samples.ReferenceProfile.Edges);
    }

    [Fact]
    public void A_shifted_window_scores_as_python_computes()
    {
        // psi(ref, shifted, edges(ref))
        Assert.Equal(0.03079020474317884, PopulationStabilityIndex.Compute(Samples.ReferenceProfile, Samples.Shifted), 1e-12);
    }

    [Fact]
    public void A_window_drawn_like_the_reference_scores_near_zero()
    {
        // psi(ref, alike, edges(ref))
        Assert.Equal(0.00023639300943954222, PopulationStabilityIndex.Compute(Samples.ReferenceProfile, Samples.Alike), 1e-12);
    }

    [Fact]
    public void A_window_of_three_values_leaves_most_bins_empty_and_each_empty_bin_counts_at_the_floor_share()
    {
        // psi(ref, np.array([9.9, 10.0, 12.0]), edges(ref)): 12.0 lies above the last edge and counts in the last bin.
        Assert.Equal(8.114466160385716, PopulationStabilityIndex.Compute(Samples.ReferenceProfile, [9.9, 10.0, 12.0]), 1e-12);
    }

    [Fact]
    public void A_discrete_feature_gets_one_bin_per_value_and_a_value_above_them_counts_in_the_last()
    {
        // psi(np.array([float(i % 4) for i in range(400)]), np.array([0.0]*5 + [1.0]*3 + [4.0]*2), np.array([0.0, 1.0, 2.0, 3.0, 4.0]))
        // The NaN is left out of the shares: ten finite values.
        var profile = FeatureProfile.FromValues("category", Samples.Categories);
        double[] window = [0, 0, 0, 0, 0, 1, 1, 1, 4, 4, double.NaN];

        Assert.Equal([0.0, 1.0, 2.0, 3.0, 4.0], profile.Edges.ToArray());
        Assert.Equal(2.148789148658382, PopulationStabilityIndex.Compute(profile, window), 1e-12);
    }

    [Fact]
    public void Non_finite_values_are_left_out()
    {
        Assert.Equal(
            PopulationStabilityIndex.Compute(Samples.ReferenceProfile, Samples.Shifted),
            PopulationStabilityIndex.Compute(Samples.ReferenceProfile, Samples.WithNonFinite(Samples.Shifted)));
    }

    [Fact]
    public void A_constant_reference_has_one_bin_so_psi_is_zero_whatever_the_window()
    {
        // Drift on such a feature shows as out-of-range values in DataQuality, not in PSI.
        var profile = FeatureProfile.FromValues("constant", Enumerable.Repeat(2.5, 100).ToArray());

        Assert.Equal(0.0, PopulationStabilityIndex.Compute(profile, [2.5, 7.0, -1.0]));
    }

    [Fact]
    public void A_window_without_finite_values_has_no_score()
    {
        Assert.True(double.IsNaN(PopulationStabilityIndex.Compute(Samples.ReferenceProfile, [double.NaN, double.PositiveInfinity])));
        Assert.True(double.IsNaN(PopulationStabilityIndex.Compute(Samples.ReferenceProfile, [])));
    }
}
