using Mlops.Stream.Drift.Internal;

namespace Mlops.Stream.Drift.Tests;

public sealed class SmirnovDistributionTests
{
    /// <summary>
    /// Expected numbers from Debian's python3-scipy 1.10.1: <c>scipy.special.smirnov(n, x)</c>.
    /// The last row is past scipy's exact limit (n = 1,000,000), where both use the same approximation.
    /// </summary>
    [Theory]
    [InlineData(2, 0.3, 0.61)]
    [InlineData(10, 0.25, 0.24491372483398438)]
    [InlineData(231, 0.1, 0.009161952942320752)]
    [InlineData(1000, 0.05, 0.006506037390545166)]
    [InlineData(100000, 0.004, 0.04065347569406545)]
    [InlineData(2000000, 0.001, 0.018303432023617325)]
    public void Survival_matches_scipy_special_smirnov(int n, double x, double expected)
    {
        var actual = SmirnovDistribution.Survival(n, x);

        Assert.True(Math.Abs(actual - expected) <= 1e-9 * expected, $"smirnov({n}, {x}): expected {expected:R}, got {actual:R}");
    }
}
