using System.Collections.Immutable;

namespace Mlops.Stream.Drift.Windows;

/// <summary>
/// One version's window while it fills: feature values column by column (the statistics take one
/// feature's values as a span), event count, time bounds and offsets per partition. The column
/// buffers grow by doubling up to <see cref="WindowOptions.MaxRows"/> and are reused after each
/// close, so a long-running job settles at one window's worth of memory per version.
/// </summary>
internal sealed class OpenWindow(string model, VersionReference reference, WindowOptions options)
{
    private readonly double[][] columns = [.. reference.Features.Select(_ => Array.Empty<double>())];
    private readonly SortedDictionary<int, (long First, long Last)> offsets = [];

    public VersionReference Reference => reference;

    public int Events { get; private set; }

    public int Rows { get; private set; }

    public DateTimeOffset Start { get; private set; }

    public DateTimeOffset End { get; private set; }

    /// <summary>Served time at which the window closes: its first event's plus the span.</summary>
    public DateTimeOffset Deadline => Start + options.MaxSpan;

    /// <summary>Rows the buffers can hold without growing (for the memory-bound tests).</summary>
    internal int Capacity => columns.Length == 0 ? 0 : columns[0].Length;

    public bool Fits(FeatureRows rows) => Rows + rows.Rows <= options.MaxRows;

    public void Add(ServedEvent served, FeatureRows rows)
    {
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
            features);

        Events = 0;
        Rows = 0;
        offsets.Clear();
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
