using System.Collections.Immutable;
using Mlops.Stream.Drift.Performance;

namespace Mlops.Stream.Drift.Windows;

/// <summary>Why a window closed.</summary>
public enum WindowClose
{
    /// <summary>It reached <see cref="WindowOptions.MaxEvents"/>.</summary>
    Count,

    /// <summary>The next event would have taken it past <see cref="WindowOptions.MaxRows"/>.</summary>
    Rows,

    /// <summary><see cref="WindowOptions.MaxSpan"/> passed, by a later event's served time or by a tick.</summary>
    Time,
}

/// <summary>The served-events records of one partition a window used: offsets first to last, inclusive.</summary>
public sealed record PartitionOffsets(int Partition, long First, long Last);

/// <summary>
/// One closed window's drift evaluation: the record the drift job writes to
/// <c>mlops.drift.&lt;model&gt;.v1</c> (see <see cref="DriftWindowJson"/>). It names its bounds in
/// time and in served-event offsets so a reader can find the exact traffic it judged.
/// </summary>
/// <param name="Model">The model.</param>
/// <param name="Version">The model version whose traffic the window holds.</param>
/// <param name="Start">Earliest served timestamp in the window.</param>
/// <param name="End">Latest served timestamp in the window.</param>
/// <param name="ClosedBy">What closed it.</param>
/// <param name="Events">Served events in the window.</param>
/// <param name="Rows">Feature rows in the window (events times their batch sizes).</param>
/// <param name="Offsets">Per served-events partition, the first and last offset used, by partition.</param>
/// <param name="Dataset">The window's verdict as a whole.</param>
/// <param name="Features">Per feature, in the reference profile's order: statistic, verdict, data quality.</param>
public sealed record DriftWindowReport(
    string Model,
    int Version,
    DateTimeOffset Start,
    DateTimeOffset End,
    WindowClose ClosedBy,
    int Events,
    int Rows,
    ImmutableArray<PartitionOffsets> Offsets,
    DatasetDrift Dataset,
    ImmutableArray<FeatureDrift> Features)
{
    /// <summary>
    /// Accuracy, precision, recall and ROC AUC over the labels (from the feedback topic) matched
    /// while the window was open, for events of its version; null in records written before labels were joined.
    /// </summary>
    public ClassificationPerformance? Performance { get; init; }

    /// <summary>Drift of the outputs against the version's baseline window; null when no event of the window had predictions.</summary>
    public PredictionDrift? PredictionDrift { get; init; }
}
