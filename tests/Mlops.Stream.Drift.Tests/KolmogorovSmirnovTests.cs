namespace Mlops.Stream.Drift.Tests;

/// <summary>
/// Expected numbers from Debian's python3-scipy 1.10.1:
/// <c>r = scipy.stats.ks_2samp(a, b, method="asymp"); r.statistic, r.pvalue</c>, with a and b as
/// named in each test (the formulas are in <see cref="Samples"/>).
/// </summary>
public sealed class KolmogorovSmirnovTests
{
    [Theory]
    [InlineData("shifted", 0.05, 0.5926197865416845)]
    [InlineData("far", 0.149, 6.0983117193844156e-05)]
    [InlineData("alike", 0.002666666666666706, 1.0)]
    public void A_window_of_300_against_1000_reference_values_matches_scipy(string window, double statistic, double pValue)
    {
        // ks_2samp(ref, shifted | far | alike, method="asymp"); effective n = round(1000*300/1300) = 231
        var current = window switch
        {
            "shifted" => Samples.Shifted,
            "far" => Samples.ShiftedFar,
            _ => Samples.Alike,
        };

        var result = KolmogorovSmirnov.TwoSample(Samples.Reference, current);

        Assert.Equal(statistic, result.Statistic, 1e-12);
        AssertRelative(pValue, result.PValue);
    }

    [Fact]
    public void A_large_reference_against_a_stretched_window_matches_scipy()
    {
        // ks_2samp(big, win, method="asymp") -> (0.0474, 0.0268512489550502); effective n = 952
        var result = KolmogorovSmirnov.TwoSample(Samples.LargeReference, Samples.StretchedWindow);

        Assert.Equal(0.0474, result.Statistic, 1e-12);
        AssertRelative(0.0268512489550502, result.PValue);
    }

    [Fact]
    public void Small_samples_with_ties_match_scipy()
    {
        // ks_2samp([0.1,0.4,0.4,0.9,1.3,2.0,2.2,3.1], [0.4,1.0,1.3,1.3,2.5,4.0], method="asymp")
        //   -> (0.33333333333333337, 0.7777777777777778); effective n = round(48/14) = 3
        var result = KolmogorovSmirnov.TwoSample([0.1, 0.4, 0.4, 0.9, 1.3, 2.0, 2.2, 3.1], [0.4, 1.0, 1.3, 1.3, 2.5, 4.0]);

        Assert.Equal(0.33333333333333337, result.Statistic, 1e-12);
        AssertRelative(0.7777777777777778, result.PValue);
    }

    [Fact]
    public void Two_constant_samples_of_one_value_do_not_differ()
    {
        // ks_2samp([1.0]*50, [1.0]*20, method="asymp") -> (0.0, 1.0)
        var result = KolmogorovSmirnov.TwoSample(Enumerable.Repeat(1.0, 50).ToArray(), Enumerable.Repeat(1.0, 20).ToArray());

        Assert.Equal((0.0, 1.0), (result.Statistic, result.PValue));
    }

    [Fact]
    public void Two_constant_samples_of_different_values_differ_completely()
    {
        // ks_2samp([1.0]*50, [2.0]*20, method="asymp") -> (1.0, 0.0)
        var result = KolmogorovSmirnov.TwoSample(Enumerable.Repeat(1.0, 50).ToArray(), Enumerable.Repeat(2.0, 20).ToArray());

        Assert.Equal((1.0, 0.0), (result.Statistic, result.PValue));
    }

    [Fact]
    public void Non_finite_values_are_left_out_and_the_counts_say_how_many_were_used()
    {
        var clean = KolmogorovSmirnov.TwoSample(Samples.Reference, Samples.Shifted);
        var dirty = KolmogorovSmirnov.TwoSample(Samples.WithNonFinite(Samples.Reference), Samples.WithNonFinite(Samples.Shifted));

        Assert.Equal(clean, dirty);
        Assert.Equal((1000, 300), (dirty.ReferenceCount, dirty.CurrentCount));
    }

    [Fact]
    public void A_window_without_finite_values_has_no_result()
    {
        var result = KolmogorovSmirnov.TwoSample(Samples.Reference, [double.NaN]);

        Assert.True(double.IsNaN(result.Statistic) && double.IsNaN(result.PValue));
        Assert.Equal(0, result.CurrentCount);
    }

    private static void AssertRelative(double expected, double actual) =>
        Assert.True(Math.Abs(actual - expected) <= 1e-9 * expected, $"expected {expected:R}, got {actual:R}");
}
