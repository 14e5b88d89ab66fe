using Mlops.Stream.Inference.Registry;

namespace Mlops.Stream.Drift.Tests;

public sealed class DataQualityTests
{
    [Fact]
    public void Non_finite_and_out_of_range_values_are_shares_of_the_whole_window()
    {
        // Reference range [0.0, 10.0]; its edges are inclusive. python:
        //   w = np.array([-0.5, 0.0, 5.0, 10.0, 10.5, np.nan, np.inf, 3.0])
        //   (~np.isfinite(w)).mean(), (np.isfinite(w) & ((w < 0.0) | (w > 10.0))).mean()  ->  (0.25, 0.25)
        var quality = DataQuality.Measure(Samples.ReferenceProfile, [-0.5, 0.0, 5.0, 10.0, 10.5, double.NaN, double.PositiveInfinity, 3.0]);

        Assert.Equal(new DataQuality(8, 0.25, 0.25), quality);
    }

    [Fact]
    public void A_constant_reference_makes_every_other_value_out_of_range()
    {
        // FromValues gives a single-valued feature the edges [2.5, 3.5], one bin for the one value.
        var profile = FeatureProfile.FromValues("constant", Enumerable.Repeat(2.5, 100).ToArray());

        Assert.Equal(new DataQuality(4, 0, 0.5), DataQuality.Measure(profile, [2.5, 2.5, 1.0, 4.0]));
    }

    [Fact]
    public void An_empty_window_has_nothing_wrong_with_it()
    {
        Assert.Equal(new DataQuality(0, 0, 0), DataQuality.Measure(Samples.ReferenceProfile, []));
    }
}
