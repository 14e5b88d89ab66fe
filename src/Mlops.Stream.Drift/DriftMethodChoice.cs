namespace Mlops.Stream.Drift;

/// <summary>
/// Which method judges a feature, after Evidently's default choice (sample size and number of
/// distinct values decide), with one simplification. The rule, in order:
/// <list type="number">
/// <item>No reference sample, only the profile: <see cref="DriftMethod.PopulationStabilityIndex"/>,
/// whatever <see cref="DriftOptions.Methods"/> says (the other methods need the raw values).</item>
/// <item>A per-feature override in <see cref="DriftOptions.Methods"/>: that method.</item>
/// <item>Categorical, meaning at most <see cref="CategoricalMaxDistinct"/> distinct finite values in
/// the reference sample: <see cref="DriftMethod.JensenShannon"/>, at any sample size. Evidently would
/// use a chi-square test (a Z-test for two values) up to 1,000 reference values; we use
/// Jensen-Shannon throughout to keep one categorical method.</item>
/// <item>Numerical with at most <see cref="LargeReference"/> finite reference values:
/// <see cref="DriftMethod.KolmogorovSmirnov"/>.</item>
/// <item>Numerical with more: <see cref="DriftMethod.Wasserstein"/>, because KS on large samples
/// finds tiny, harmless shifts significant.</item>
/// </list>
/// </summary>
public static class DriftMethodChoice
{
    /// <summary>A reference sample with at most this many distinct finite values is categorical (Evidently's 5).</summary>
    public const int CategoricalMaxDistinct = 5;

    /// <summary>Up to this many finite reference values a numerical feature gets KS (Evidently's 1,000).</summary>
    public const int LargeReference = 1000;

    /// <summary>The method for <paramref name="reference"/> under <paramref name="options"/>.</summary>
    public static DriftMethod For(FeatureReference reference, DriftOptions options)
    {
        if (reference.Sample is null)
        {
            return DriftMethod.PopulationStabilityIndex;
        }

        if (options.Methods.TryGetValue(reference.Feature, out var chosen))
        {
            return chosen;
        }

        var (finite, distinct) = Count(reference.Sample);
        if (distinct <= CategoricalMaxDistinct)
        {
            return DriftMethod.JensenShannon;
        }

        return finite <= LargeReference ? DriftMethod.KolmogorovSmirnov : DriftMethod.Wasserstein;
    }

    /// <summary>Finite values, and distinct ones counted only as far as the categorical limit needs.</summary>
    private static (int Finite, int Distinct) Count(double[] sample)
    {
        var distinct = new HashSet<double>();
        var finite = 0;
        foreach (var v in sample)
        {
            if (double.IsFinite(v))
            {
                finite++;
                if (distinct.Count <= CategoricalMaxDistinct)
                {
                    distinct.Add(v);
                }
            }
        }

        return (finite, distinct.Count);
    }
}
