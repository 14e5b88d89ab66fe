namespace Mlops.Stream.Drift;

/// <summary>
/// One feature's drift verdict over a window.
/// </summary>
/// <param name="Feature">The feature's name.</param>
/// <param name="Method">The method that judged it (<see cref="DriftMethodChoice"/>).</param>
/// <param name="Reference">Whether the reference sample or the profile was compared against.</param>
/// <param name="Score">The statistic: KS's D, or the distance (Wasserstein, Jensen-Shannon, PSI). NaN when not evaluated.</param>
/// <param name="PValue">KS's p-value, which is what the KS verdict compares; null for the distances and when not evaluated.</param>
/// <param name="Threshold">The threshold the verdict compared against: a p-value for KS, a distance otherwise.</param>
/// <param name="Verdict">
/// Drifted when p &lt; threshold (KS) or score &gt; threshold (distances), as issue 11 words it; a
/// score exactly at the threshold is stable (Evidently counts it as drift, which only matters at
/// that one value).
/// </param>
/// <param name="Quality">The window's non-finite and out-of-range shares, which the statistics leave out.</param>
public sealed record FeatureDrift(
    string Feature,
    DriftMethod Method,
    ReferenceKind Reference,
    double Score,
    double? PValue,
    double Threshold,
    DriftVerdict Verdict,
    DataQuality Quality)
{
    /// <summary>
    /// The window's finite values counted in the reference profile's bins, whatever the method, so a
    /// report can draw the window's histogram over the reference's. Default (empty) when not known.
    /// </summary>
    public BinCounts CurrentCounts { get; init; }

    /// <summary>True only for a <see cref="DriftVerdict.Drifted"/> verdict; false for stable and for not evaluated.</summary>
    public bool Drifted => Verdict == DriftVerdict.Drifted;

    /// <summary>
    /// Judges <paramref name="window"/> against <paramref name="reference"/>. Non-finite values are
    /// left out of the statistic and counted in <see cref="Quality"/>; a window with no finite value
    /// (an empty one included) gets <see cref="DriftVerdict.NotEvaluated"/>, a NaN score and no p-value.
    /// </summary>
    public static FeatureDrift Evaluate(FeatureReference reference, ReadOnlySpan<double> window, DriftOptions options)
    {
        var quality = DataQuality.Measure(reference.Profile, window);
        var counts = BinCounts.Of(reference.Profile, window);
        var method = DriftMethodChoice.For(reference, options);
        var threshold = options.ThresholdFor(method);

        // Methods other than PSI are only chosen when there is a sample (DriftMethodChoice's first rule).
        var sample = reference.Sample ?? [];
        double score;
        double? pValue = null;
        switch (method)
        {
            case DriftMethod.KolmogorovSmirnov:
                var ks = KolmogorovSmirnov.TwoSample(sample, window);
                score = ks.Statistic;
                pValue = double.IsNaN(ks.PValue) ? null : ks.PValue;
                break;
            case DriftMethod.Wasserstein:
                score = WassersteinDistance.Normalised(sample, window);
                break;
            case DriftMethod.JensenShannon:
                score = JensenShannonDistance.BetweenValues(sample, window);
                break;
            default:
                score = PopulationStabilityIndex.Compute(reference.Profile, counts);
                break;
        }

        var verdict = (method, pValue) switch
        {
            _ when double.IsNaN(score) => DriftVerdict.NotEvaluated,
            (DriftMethod.KolmogorovSmirnov, double p) => p < threshold ? DriftVerdict.Drifted : DriftVerdict.Stable,
            _ => score > threshold ? DriftVerdict.Drifted : DriftVerdict.Stable,
        };
        var kind = method == DriftMethod.PopulationStabilityIndex ? ReferenceKind.Profile : ReferenceKind.Sample;
        return new FeatureDrift(reference.Feature, method, kind, score, pValue, threshold, verdict, quality) { CurrentCounts = counts };
    }
}
