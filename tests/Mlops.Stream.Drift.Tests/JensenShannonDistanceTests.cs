namespace Mlops.Stream.Drift.Tests;

/// <summary>
/// Expected numbers from Debian's python3-scipy 1.10.1:
/// <c>scipy.spatial.distance.jensenshannon(p, q, base=2)</c> with p and q as in each test.
/// </summary>
public sealed class JensenShannonDistanceTests
{
    [Fact]
    public void Shares_with_an_empty_category_match_scipy()
    {
        // jensenshannon([0.5,0.3,0.2,0.0], [0.1,0.3,0.3,0.3], base=2)
        Assert.Equal(0.5121089970815066, JensenShannonDistance.BetweenShares([0.5, 0.3, 0.2, 0.0], [0.1, 0.3, 0.3, 0.3]), 1e-12);
    }

    [Fact]
    public void Values_are_counted_over_the_categories_either_side_saw()
    {
        // Reference: 100 each of 0, 1, 2, 3. Window: 0 x5, 1 x3, 4 x2 (a category the reference never saw), one NaN left out.
        // jensenshannon([100,100,100,100,0], [5,3,0,0,2], base=2)
        double[] window = [0, 0, 0, 0, 0, 1, 1, 1, 4, 4, double.NaN];

        Assert.Equal(0.6182885686096771, JensenShannonDistance.BetweenValues(Samples.Categories, window), 1e-12);
    }

    [Fact]
    public void Disjoint_shares_are_at_distance_one_and_equal_shares_at_zero()
    {
        // jensenshannon([1,0], [0,1], base=2) -> 1.0
        Assert.Equal(1.0, JensenShannonDistance.BetweenShares([1, 0], [0, 1]), 1e-12);
        Assert.Equal(0.0, JensenShannonDistance.BetweenValues(Samples.Categories, Samples.Categories));
    }

    [Fact]
    public void A_constant_feature_that_stays_constant_is_at_distance_zero()
    {
        Assert.Equal(0.0, JensenShannonDistance.BetweenValues([7.0, 7.0, 7.0], [7.0]));
    }

    [Fact]
    public void Shares_over_different_categories_are_refused()
    {
        Assert.Throws<ArgumentException>(() => JensenShannonDistance.BetweenShares([0.5, 0.5], [1.0]));
    }
}
