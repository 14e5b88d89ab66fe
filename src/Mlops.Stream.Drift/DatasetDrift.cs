namespace Mlops.Stream.Drift;

/// <summary>
/// Whether a window drifted as a whole: the share of drifted features among those with a verdict
/// reaches <see cref="DriftOptions.DatasetDriftShare"/>. Features that could not be evaluated are
/// counted apart and left out of the share, so a feature that stopped arriving neither raises nor
/// dilutes it.
/// </summary>
/// <param name="FeatureCount">Features judged, evaluated or not.</param>
/// <param name="EvaluatedCount">Features with a verdict (stable or drifted).</param>
/// <param name="DriftedCount">Features that drifted.</param>
/// <param name="DriftedShare">DriftedCount / EvaluatedCount; NaN when no feature was evaluated.</param>
/// <param name="Threshold">The share at which the dataset counts as drifted.</param>
/// <param name="Verdict">Drifted when DriftedShare &gt;= Threshold; not evaluated when no feature was.</param>
public sealed record DatasetDrift(
    int FeatureCount,
    int EvaluatedCount,
    int DriftedCount,
    double DriftedShare,
    double Threshold,
    DriftVerdict Verdict)
{
    /// <summary>True only for a <see cref="DriftVerdict.Drifted"/> verdict.</summary>
    public bool Drifted => Verdict == DriftVerdict.Drifted;

    /// <summary>The dataset verdict over one window's feature verdicts.</summary>
    public static DatasetDrift Of(IReadOnlyCollection<FeatureDrift> features, DriftOptions options)
    {
        var evaluated = features.Count(f => f.Verdict != DriftVerdict.NotEvaluated);
        var drifted = features.Count(f => f.Drifted);
        var threshold = options.DatasetDriftShare;
        if (evaluated == 0)
        {
            return new DatasetDrift(features.Count, 0, 0, double.NaN, threshold, DriftVerdict.NotEvaluated);
        }

        // "Reaches": with the default 0.5, two drifted features of four are dataset drift.
        var share = (double)drifted / evaluated;
        var verdict = share >= threshold ? DriftVerdict.Drifted : DriftVerdict.Stable;
        return new DatasetDrift(features.Count, evaluated, drifted, share, threshold, verdict);
    }
}
