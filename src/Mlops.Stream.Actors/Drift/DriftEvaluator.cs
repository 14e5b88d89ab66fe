using System.Collections.Immutable;
using Mlops.Stream.Actors.Metrics;
using Mlops.Stream.Drift.Windows;

namespace Mlops.Stream.Actors.Drift;

/// <summary>A window that closed, with the offsets of the served events it used: commit them once its record is acknowledged.</summary>
public sealed record ClosedWindow<TOffset>(DriftWindowReport Report, IReadOnlyList<TOffset> Offsets);

/// <summary>
/// What one served event (or an idle tick) did: windows it closed, each with its events' offsets,
/// and offsets finished without a window (a bad event, skipped), which may be committed at once.
/// Most steps have neither: the event waits in its open window.
/// </summary>
public sealed record DriftStep<TOffset>(IReadOnlyList<ClosedWindow<TOffset>> Closed, IReadOnlyList<TOffset> Skipped)
{
    public static DriftStep<TOffset> Nothing { get; } = new([], []);
}

/// <summary>
/// One model's drift evaluation for one run of its stream: served events are read, their
/// version's reference is loaded (without blocking: the registry is asked asynchronously, once per
/// version), and they go into <see cref="DriftWindows"/>; the offsets of each window's events are
/// kept beside it (<see cref="WindowOffsets{TOffset}"/>) until the window closes. A new run starts
/// empty, because everything an old run held was not committed and is read again. Bad events are
/// reported (<see cref="BadServedEvents"/>) and skipped. Not thread-safe: called one element at a
/// time (the stream's <c>SelectAsync(1)</c>). Generic in the offset so it is tested without Kafka.
/// </summary>
public sealed class DriftEvaluator<TOffset>
{
    private readonly string _model;
    private readonly VersionReferences _references;
    private readonly BadServedEvents _bad;
    private readonly DriftMetrics _metrics;
    private readonly DriftWindows _windows;
    private readonly WindowOffsets<TOffset> _held = new();

    public DriftEvaluator(string model, VersionReferences references, DriftJobSettings settings, BadServedEvents bad, DriftMetrics metrics)
    {
        _model = model;
        _references = references;
        _bad = bad;
        _metrics = metrics;
        _windows = new DriftWindows(model, references.Get, settings.Windows, settings.Statistics);
    }

    /// <summary>Events of <paramref name="version"/> waiting in its open window (for tests).</summary>
    internal int Held(int version) => _held.Held(version);

    /// <summary>
    /// Takes one served-events record: its value, its partition and offset, and the context to
    /// hand back with the window that uses it (or at once, when it is skipped).
    /// </summary>
    public async Task<DriftStep<TOffset>> AddAsync(byte[]? value, int partition, long offset, TOffset context, CancellationToken cancellationToken = default)
    {
        if (!ServedEventReader.TryRead(value, partition, offset, out var served, out var failure))
        {
            return Skip(failure, context);
        }

        if (served.Model == _model)
        {
            await _references.LoadAsync(served.Version, cancellationToken).ConfigureAwait(false);
        }

        var step = _windows.Add(served);
        if (step.Failure is { } refused)
        {
            return Skip(refused, context);
        }

        _metrics.CountEvent(_model);
        // Held before the closed windows are released: a window closed by this event's count holds
        // it as its last; one closed by time or rows before it was added does not.
        _held.Hold(served.Version, context);
        return step.Closed.IsEmpty ? DriftStep<TOffset>.Nothing : new DriftStep<TOffset>(Release(step.Closed), []);
    }

    /// <summary>The stream is caught up and quiet: close, by the clock, windows whose span has passed.</summary>
    public DriftStep<TOffset> Idle(DateTimeOffset now)
    {
        var closed = _windows.Tick(now);
        return closed.IsEmpty ? DriftStep<TOffset>.Nothing : new DriftStep<TOffset>(Release(closed), []);
    }

    private DriftStep<TOffset> Skip(ServedEventFailure failure, TOffset context)
    {
        _bad.Report(failure);
        return new DriftStep<TOffset>([], [context]);
    }

    private ClosedWindow<TOffset>[] Release(ImmutableArray<DriftWindowReport> closed) =>
        [.. closed.Select(report => new ClosedWindow<TOffset>(report, _held.Release(report.Version, report.Events)))];
}
