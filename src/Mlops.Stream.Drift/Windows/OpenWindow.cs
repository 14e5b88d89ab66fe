using System.Collections.Immutable;
using Mlops.Stream.Drift.Performance;

namespace Mlops.Stream.Drift.Windows;

/// <summary>
/// One version's window while it fills: feature values column by column (the statistics take one
/// feature's values as a span), event count, time bounds and offsets per partition. The column
/// buffers grow by doubling up to <see cref="WindowOptions.MaxRows"/> and are reused after each
/// close, so a long-running job settles at one window's worth of memory per version. Beside the
/// features it holds the events' predictions (<see cref="PredictionWindow"/>) and the labelled rows
/// matched while it is open, at most <see cref="WindowOptions.MaxRows"/> of them.
/// </summary>
internal sealed class OpenWindow(string model, VersionReference initialReference, WindowOptions options, PredictionBaselines baselines)
{
    private VersionReference reference = initialReference;
    private double[][] columns = [.. initialReference.Features.Select(_ => Array.Empty<double>())];
    private readonly SortedDictionary<int, (long First, long Last)> offsets = [];
    private readonly PredictionWindow predictions = new();
    private readonly List<LabelledPrediction> labelled = [];
    private int late;
    private int labelClasses;

    public VersionReference Reference => reference;

    public int Events { get; private set; }

    public int Rows { get; private set; }

    public DateTimeOffset Start { get; private set; }

    public DateTimeOffset End { get; private set; }

    /// <summary>Served time at which the window closes: its first event's plus the span.</summary>
    public DateTimeOffset Deadline => Start + options.MaxSpan;

    /// <summary>Windows of the version closed so far: the sequence number of this one.</summary>
    public long Sequence { get; private set; }

    /// <summary>Labelled rows matched into this window.</summary>
    public int Labelled => labelled.Count;

    /// <summary>Rows the buffers can hold without growing (for the memory-bound tests).</summary>
    internal int Capacity => columns.Length == 0 ? 0 : columns[0].Length;

    /// <summary>
    /// Judges the window (which must be empty: between two windows) against <paramref name="newer"/>
    /// from now on: a new baseline of the version applies from its next window, never half-way.
    /// </summary>
    public void Rebase(VersionReference newer)
    {
        if (Events > 0) throw new InvalidOperationException("a window's reference changes only between windows");
        if (newer.Features.Length != reference.Features.Length)
        {
            columns = [.. newer.Features.Select(_ => Array.Empty<double>())];
        }

        reference = newer;
    }

    public bool Fits(FeatureRows rows) => Rows + rows.Rows <= options.MaxRows;

    public void Add(ServedEvent served, FeatureRows rows, PredictionRows? predicted)
    {
        if (predicted is not null)
        {
            predictions.Add(predicted);
        }

        if (Events == 0)
        {
            Start = End = served.ServedAt;
        }
        else
        {
            Start = served.ServedAt < Start ? served.ServedAt : Start;
            End = served.ServedAt > End ? served.ServedAt : End;
        }

        var features = columns.Length;
        Grow(Rows + rows.Rows);
        for (var row = 0; row < rows.Rows; row++)
        {
            for (var f = 0; f < features; f++)
            {
                columns[f][Rows + row] = rows.Values[(row * features) + f];
            }
        }

        Rows += rows.Rows;
        Events++;
        offsets[served.Partition] = offsets.TryGetValue(served.Partition, out var seen)
            ? (Math.Min(seen.First, served.Offset), Math.Max(seen.Last, served.Offset))
            : (served.Offset, served.Offset);
    }

    /// <summary>
    /// Counts the labelled rows of one served event of the version into this window, whichever window
    /// the event was in; false when they would take the window past its row limit (nothing is added).
    /// </summary>
    public bool AddLabelled(long eventWindow, int classes, IReadOnlyList<LabelledPrediction> rows)
    {
        if (labelled.Count + rows.Count > options.MaxRows)
        {
            return false;
        }

        labelled.AddRange(rows);
        late += eventWindow < Sequence ? rows.Count : 0;
        labelClasses = Math.Max(labelClasses, classes);
        return true;
    }

    /// <summary>Evaluates the window against the version's reference and empties it for the next one.</summary>
    public DriftWindowReport Close(WindowClose closedBy, DriftOptions drift)
    {
        var features = reference.Features
            .Select((feature, f) => FeatureDrift.Evaluate(feature, columns[f].AsSpan(0, Rows), drift))
            .ToImmutableArray();
        var report = new DriftWindowReport(
            model,
            reference.Version,
            Start,
            End,
            closedBy,
            Events,
            Rows,
            [.. offsets.Select(o => new PartitionOffsets(o.Key, o.Value.First, o.Value.Last))],
            DatasetDrift.Of(features, drift),
            features)
        {
            Performance = ClassificationPerformance.Of(labelled, Math.Max(labelClasses, predictions.Classes), late),
            PredictionDrift = predictions.Close(reference.Version, Start, End, baselines, reference.ClassLabels, drift),
        };

        Events = 0;
        Rows = 0;
        offsets.Clear();
        labelled.Clear();
        late = 0;
        labelClasses = 0;
        Sequence++;
        return report;
    }

    private void Grow(int needed)
    {
        if (Capacity >= needed)
        {
            return;
        }

        // Starting at a tenth of the limit avoids many small copies while filling the first window.
        var capacity = Math.Min(options.MaxRows, Math.Max(needed, Math.Max(Capacity * 2, Math.Min(options.MaxEvents, options.MaxRows))));
        for (var f = 0; f < columns.Length; f++)
        {
            Array.Resize(ref columns[f], capacity);
        }
    }
}
