namespace Mlops.Stream.Drift.Tests;

/// <summary>
/// Expected numbers from Debian's python3-scipy 1.10.1:
/// <c>w = scipy.stats.wasserstein_distance(a, b); w, w / max(np.std(a), 0.001)</c> (np.std is the
/// population standard deviation, ddof = 0), with a and b from <see cref="Samples"/>.
/// </summary>
public sealed class WassersteinDistanceTests
{
    [Fact]
    public void A_shifted_window_matches_scipy()
    {
        // wasserstein_distance(ref, shifted) -> 0.27366666666666667; np.std(ref) = 2.9179545918331216
        Assert.Equal(0.27366666666666667, WassersteinDistance.Between(Samples.Reference, Samples.Shifted), 1e-12);
        Assert.Equal(0.09378715742616935, WassersteinDistance.Normalised(Samples.Reference, Samples.Shifted), 1e-12);
    }

    [Fact]
    public void A_large_reference_against_a_stretched_window_matches_scipy()
    {
        // wasserstein_distance(big, win) -> 0.2334538750000002; normalised 0.08081256317681296
        Assert.Equal(0.2334538750000002, WassersteinDistance.Between(Samples.LargeReference, Samples.StretchedWindow), 1e-12);
        Assert.Equal(0.08081256317681296, WassersteinDistance.Normalised(Samples.LargeReference, Samples.StretchedWindow), 1e-12);
    }

    [Fact]
    public void A_constant_reference_is_normalised_by_the_floor_not_by_zero()
    {
        // wasserstein_distance([2.5]*100, [2.5]*50+[3.0]*50) -> 0.25; np.std([2.5]*100) = 0 -> 0.25 / 0.001 = 250.0
        var reference = Enumerable.Repeat(2.5, 100).ToArray();
        double[] window = [.. Enumerable.Repeat(2.5, 50), .. Enumerable.Repeat(3.0, 50)];

        Assert.Equal(0.25, WassersteinDistance.Between(reference, window), 1e-12);
        Assert.Equal(250.0, WassersteinDistance.Normalised(reference, window), 1e-9);
    }

    [Fact]
    public void Equal_samples_are_at_distance_zero()
    {
        Assert.Equal(0.0, WassersteinDistance.Normalised(Samples.Reference, Samples.Reference));
    }

    [Fact]
    public void Non_finite_values_are_left_out()
    {
        Assert.Equal(
            WassersteinDistance.Normalised(Samples.Reference, Samples.Shifted),
            WassersteinDistance.Normalised(Samples.WithNonFinite(Samples.Reference), Samples.WithNonFinite(Samples.Shifted)));
        Assert.True(double.IsNaN(WassersteinDistance.Normalised(Samples.Reference, [double.NaN])));
    }
}
