namespace Mlops.Stream.Drift;

/// <summary>
/// The outcome for a feature or a dataset. <see cref="NotEvaluated"/> is a third answer, not a
/// kind of "stable": a window with no finite value says nothing about drift, and reporting it as
/// stable would hide a feature that has stopped arriving.
/// </summary>
public enum DriftVerdict
{
    /// <summary>The score is on the no-drift side of its threshold.</summary>
    Stable,

    /// <summary>The score crossed its threshold.</summary>
    Drifted,

    /// <summary>No score could be computed (empty window, or no finite value on one side).</summary>
    NotEvaluated,
}
