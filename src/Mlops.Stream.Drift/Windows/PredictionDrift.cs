using System.Collections.Immutable;

namespace Mlops.Stream.Drift.Windows;

/// <summary>What a window's outputs were compared against.</summary>
public enum PredictionReference
{
    /// <summary>
    /// The first window of the version with predictions, read by this job: manifests hold no
    /// profile of the outputs, so the version's early traffic is the baseline.
    /// </summary>
    BaselineWindow,
}

/// <summary>
/// Prediction drift of one window (issue 11): each class probability judged by PSI against the
/// baseline's histogram of it (quantile edges, as a feature profile), and the predicted class's
/// shares judged by Jensen-Shannon distance against the baseline's shares. The window that
/// becomes the baseline is not judged (<see cref="IsBaseline"/>, no outputs).
/// </summary>
/// <param name="Reference">What the outputs were compared against.</param>
/// <param name="IsBaseline">This window became the baseline of its version.</param>
/// <param name="BaselineStart">The baseline window's first served time.</param>
/// <param name="BaselineEnd">The baseline window's last served time.</param>
/// <param name="BaselineRows">Rows with predictions in the baseline window.</param>
/// <param name="Rows">Rows with predictions in this window.</param>
/// <param name="Verdict">Drifted when any output drifted; not evaluated when none was (the baseline window).</param>
/// <param name="Outputs">Per class probability (<c>probabilities[fraud]</c>), then <c>predicted_class</c>.</param>
public sealed record PredictionDrift(
    PredictionReference Reference,
    bool IsBaseline,
    DateTimeOffset BaselineStart,
    DateTimeOffset BaselineEnd,
    int BaselineRows,
    int Rows,
    DriftVerdict Verdict,
    ImmutableArray<FeatureDrift> Outputs)
{
    /// <summary>The name of the predicted class's output.</summary>
    public const string PredictedClass = "predicted_class";
}
