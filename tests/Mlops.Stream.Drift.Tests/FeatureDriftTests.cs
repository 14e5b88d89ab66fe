using System.Collections.Immutable;

namespace Mlops.Stream.Drift.Tests;

/// <summary>
/// Verdicts end to end: method choice, score, threshold. Expected numbers from Debian's
/// python3-scipy 1.10.1 with the samples of <see cref="Samples"/> (ref, shifted, far, big, win as
/// named there) and psi/edges as in <see cref="PopulationStabilityIndexTests"/>; wd(a, b) is
/// <c>scipy.stats.wasserstein_distance(a, b) / max(np.std(a), 0.001)</c>.
/// </summary>
public sealed class FeatureDriftTests
{
    [Fact]
    public void A_far_shifted_window_drifts_by_kolmogorov_smirnov_against_a_small_reference()
    {
        // ks_2samp(ref, far, method="asymp") -> (0.149, 6.0983117193844156e-05)
        var drift = FeatureDrift.Evaluate(References.Sampled(Samples.Reference), Samples.ShiftedFar, DriftOptions.Default);

        Assert.Equal((DriftMethod.KolmogorovSmirnov, ReferenceKind.Sample, 0.05, DriftVerdict.Drifted), (drift.Method, drift.Reference, drift.Threshold, drift.Verdict));
        Assert.Equal(0.149, drift.Score, 1e-12);
        Assert.Equal(6.0983117193844156e-05, drift.PValue!.Value, 1e-15);
        Assert.True(drift.Drifted);
    }

    [Fact]
    public void A_slightly_shifted_window_is_stable_by_kolmogorov_smirnov()
    {
        // ks_2samp(ref, shifted, method="asymp") -> (0.05, 0.5926197865416845)
        var drift = FeatureDrift.Evaluate(References.Sampled(Samples.Reference), Samples.Shifted, DriftOptions.Default);

        Assert.Equal((DriftMethod.KolmogorovSmirnov, DriftVerdict.Stable), (drift.Method, drift.Verdict));
        Assert.Equal(0.5926197865416845, drift.PValue!.Value, 1e-12);
    }

    [Fact]
    public void A_large_reference_is_judged_by_normalised_wasserstein()
    {
        // wd(big, win) -> 0.08081256317681296 (stable); wd(big, far) -> 0.4401853599136317 (drifted)
        var reference = References.Sampled(Samples.LargeReference);

        var stretched = FeatureDrift.Evaluate(reference, Samples.StretchedWindow, DriftOptions.Default);
        var far = FeatureDrift.Evaluate(reference, Samples.ShiftedFar, DriftOptions.Default);

        Assert.Equal((DriftMethod.Wasserstein, ReferenceKind.Sample, 0.1, DriftVerdict.Stable), (stretched.Method, stretched.Reference, stretched.Threshold, stretched.Verdict));
        Assert.Equal(0.08081256317681296, stretched.Score, 1e-12);
        Assert.Null(stretched.PValue);
        Assert.Equal(DriftVerdict.Drifted, far.Verdict);
        Assert.Equal(0.4401853599136317, far.Score, 1e-12);
    }

    [Fact]
    public void A_categorical_window_with_a_category_the_reference_never_saw_drifts_by_jensen_shannon()
    {
        // jensenshannon([100,100,100,100,0], [5,3,0,0,2], base=2) -> 0.6182885686096771
        var drift = FeatureDrift.Evaluate(References.Sampled(Samples.Categories), [0, 0, 0, 0, 0, 1, 1, 1, 4, 4], DriftOptions.Default);

        Assert.Equal((DriftMethod.JensenShannon, ReferenceKind.Sample, DriftVerdict.Drifted), (drift.Method, drift.Reference, drift.Verdict));
        Assert.Equal(0.6182885686096771, drift.Score, 1e-12);
    }

    [Fact]
    public void Without_a_sample_psi_over_the_profile_decides_and_the_result_says_so()
    {
        // psi(ref, far, edges(ref)) -> 0.793743306041688; psi(ref, shifted, edges(ref)) -> 0.03079020474317884
        var reference = References.ProfileOnly(Samples.Reference);

        var far = FeatureDrift.Evaluate(reference, Samples.ShiftedFar, DriftOptions.Default);
        var shifted = FeatureDrift.Evaluate(reference, Samples.Shifted, DriftOptions.Default);

        Assert.Equal((DriftMethod.PopulationStabilityIndex, ReferenceKind.Profile, 0.1, DriftVerdict.Drifted), (far.Method, far.Reference, far.Threshold, far.Verdict));
        Assert.Equal(0.793743306041688, far.Score, 1e-12);
        Assert.Null(far.PValue);
        Assert.Equal(DriftVerdict.Stable, shifted.Verdict);
        Assert.Equal(0.03079020474317884, shifted.Score, 1e-12);
    }

    [Fact]
    public void An_override_to_psi_uses_the_profile_even_when_there_is_a_sample()
    {
        var options = DriftOptions.Default with { Methods = Override(DriftMethod.PopulationStabilityIndex) };

        var drift = FeatureDrift.Evaluate(References.Sampled(Samples.Reference), Samples.Shifted, options);

        Assert.Equal((DriftMethod.PopulationStabilityIndex, ReferenceKind.Profile), (drift.Method, drift.Reference));
        Assert.Equal(0.03079020474317884, drift.Score, 1e-12);
    }

    [Fact]
    public void An_overridden_method_with_a_lowered_threshold_turns_stable_into_drifted()
    {
        // wd(ref, shifted) -> 0.09378715742616935: under the default 0.1, over 0.09.
        var reference = References.Sampled(Samples.Reference);
        var wasserstein = DriftOptions.Default with { Methods = Override(DriftMethod.Wasserstein) };

        var atDefault = FeatureDrift.Evaluate(reference, Samples.Shifted, wasserstein);
        var lowered = FeatureDrift.Evaluate(reference, Samples.Shifted, wasserstein with { WassersteinDistance = 0.09 });

        Assert.Equal((DriftMethod.Wasserstein, DriftVerdict.Stable), (atDefault.Method, atDefault.Verdict));
        Assert.Equal(0.09378715742616935, atDefault.Score, 1e-12);
        Assert.Equal((0.09, DriftVerdict.Drifted), (lowered.Threshold, lowered.Verdict));
    }

    [Theory]
    [InlineData(DriftMethod.Wasserstein)]
    [InlineData(DriftMethod.PopulationStabilityIndex)]
    [InlineData(DriftMethod.JensenShannon)]
    public void A_distance_exactly_at_its_threshold_is_stable_and_one_step_above_it_drifts(DriftMethod method)
    {
        // The boundary is the score itself, so the test is about the comparison, not about rounding.
        var reference = References.Sampled(Samples.Reference);
        var options = DriftOptions.Default with { Methods = Override(method) };
        var score = FeatureDrift.Evaluate(reference, Samples.Shifted, options).Score;

        var atThreshold = FeatureDrift.Evaluate(reference, Samples.Shifted, WithThreshold(options, method, score));
        var justBelowThreshold = FeatureDrift.Evaluate(reference, Samples.Shifted, WithThreshold(options, method, Math.BitDecrement(score)));

        Assert.Equal(DriftVerdict.Stable, atThreshold.Verdict);
        Assert.Equal(DriftVerdict.Drifted, justBelowThreshold.Verdict);
    }

    [Fact]
    public void A_p_value_exactly_at_its_threshold_is_stable_and_one_step_below_it_drifts()
    {
        var reference = References.Sampled(Samples.Reference);
        var p = FeatureDrift.Evaluate(reference, Samples.ShiftedFar, DriftOptions.Default).PValue!.Value;

        var atThreshold = FeatureDrift.Evaluate(reference, Samples.ShiftedFar, DriftOptions.Default with { KolmogorovSmirnovPValue = p });
        var thresholdJustAbove = FeatureDrift.Evaluate(reference, Samples.ShiftedFar, DriftOptions.Default with { KolmogorovSmirnovPValue = Math.BitIncrement(p) });

        Assert.Equal(DriftVerdict.Stable, atThreshold.Verdict);
        Assert.Equal(DriftVerdict.Drifted, thresholdJustAbove.Verdict);
    }

    [Fact]
    public void A_constant_feature_is_categorical_stable_while_constant_and_drifted_when_its_value_changes()
    {
        // jensenshannon([100], [3], base=2) -> 0.0; jensenshannon([100,0], [0,3], base=2) -> 1.0
        var reference = References.Sampled(Enumerable.Repeat(2.5, 100).ToArray());

        var same = FeatureDrift.Evaluate(reference, [2.5, 2.5, 2.5], DriftOptions.Default);
        var moved = FeatureDrift.Evaluate(reference, [3.0, 3.0, 3.0], DriftOptions.Default);

        Assert.Equal((DriftMethod.JensenShannon, 0.0, DriftVerdict.Stable), (same.Method, same.Score, same.Verdict));
        Assert.Equal((1.0, DriftVerdict.Drifted), (moved.Score, moved.Verdict));
    }

    [Fact]
    public void A_constant_feature_known_only_by_its_profile_shows_a_move_as_out_of_range_not_as_psi()
    {
        // One bin, so PSI is 0 whatever the window; DataQuality carries the finding.
        var reference = References.ProfileOnly(Enumerable.Repeat(2.5, 100).ToArray());

        var drift = FeatureDrift.Evaluate(reference, [2.5, 2.5, 1.0, 4.0], DriftOptions.Default);

        Assert.Equal((0.0, DriftVerdict.Stable), (drift.Score, drift.Verdict));
        Assert.Equal(new DataQuality(4, 0, 0.5), drift.Quality);
    }

    [Theory]
    [InlineData(DriftMethod.KolmogorovSmirnov)]
    [InlineData(DriftMethod.Wasserstein)]
    [InlineData(DriftMethod.PopulationStabilityIndex)]
    [InlineData(DriftMethod.JensenShannon)]
    public void A_window_without_finite_values_is_not_evaluated_whatever_the_method(DriftMethod method)
    {
        var options = DriftOptions.Default with { Methods = Override(method) };

        var drift = FeatureDrift.Evaluate(References.Sampled(Samples.Reference), [double.NaN, double.PositiveInfinity], options);

        Assert.Equal((method, DriftVerdict.NotEvaluated, false), (drift.Method, drift.Verdict, drift.Drifted));
        Assert.True(double.IsNaN(drift.Score));
        Assert.Null(drift.PValue);
        Assert.Equal(new DataQuality(2, 1.0, 0), drift.Quality);
    }

    [Fact]
    public void An_empty_window_is_not_evaluated_and_its_quality_counts_nothing()
    {
        var drift = FeatureDrift.Evaluate(References.ProfileOnly(Samples.Reference), [], DriftOptions.Default);

        Assert.Equal(DriftVerdict.NotEvaluated, drift.Verdict);
        Assert.Equal(new DataQuality(0, 0, 0), drift.Quality);
    }

    [Fact]
    public void Non_finite_values_are_left_out_of_the_score_and_counted_in_the_quality()
    {
        // far has 33 of 300 values above 10.0; WithNonFinite adds four non-finite values: 304 in all.
        var reference = References.Sampled(Samples.Reference);

        var clean = FeatureDrift.Evaluate(reference, Samples.ShiftedFar, DriftOptions.Default);
        var dirty = FeatureDrift.Evaluate(reference, Samples.WithNonFinite(Samples.ShiftedFar), DriftOptions.Default);

        Assert.Equal((clean.Score, clean.PValue, clean.Verdict), (dirty.Score, dirty.PValue, dirty.Verdict));
        Assert.Equal(new DataQuality(304, 4.0 / 304, 33.0 / 304), dirty.Quality);
    }

    [Fact]
    public void A_threshold_out_of_its_range_is_refused_naming_the_setting()
    {
        var p = Assert.Throws<ArgumentOutOfRangeException>(() => DriftOptions.Default with { KolmogorovSmirnovPValue = 0 });
        var share = Assert.Throws<ArgumentOutOfRangeException>(() => new DriftOptions { DatasetDriftShare = 1.5 });
        var distance = Assert.Throws<ArgumentOutOfRangeException>(() => new DriftOptions { PopulationStabilityIndex = double.NaN });

        Assert.Equal(nameof(DriftOptions.KolmogorovSmirnovPValue), p.ParamName);
        Assert.Equal(nameof(DriftOptions.DatasetDriftShare), share.ParamName);
        Assert.Equal(nameof(DriftOptions.PopulationStabilityIndex), distance.ParamName);
    }

    private static ImmutableDictionary<string, DriftMethod> Override(DriftMethod method) =>
        ImmutableDictionary<string, DriftMethod>.Empty.Add("x", method);

    private static DriftOptions WithThreshold(DriftOptions options, DriftMethod method, double threshold) => method switch
    {
        DriftMethod.Wasserstein => options with { WassersteinDistance = threshold },
        DriftMethod.PopulationStabilityIndex => options with { PopulationStabilityIndex = threshold },
        _ => options with { JensenShannonDistance = threshold },
    };
}
