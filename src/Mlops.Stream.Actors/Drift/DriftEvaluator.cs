using System.Collections.Immutable;
using Mlops.Stream.Actors.Metrics;
using Mlops.Stream.Drift.Feedback;
using Mlops.Stream.Drift.Windows;

namespace Mlops.Stream.Actors.Drift;

/// <summary>A window that closed, with the offsets of the served events and feedback labels it used: commit them once its record is acknowledged.</summary>
public sealed record ClosedWindow<TOffset>(DriftWindowReport Report, IReadOnlyList<TOffset> Offsets);

/// <summary>
/// What one served event, feedback label (or an idle tick) did: windows it closed, each with its
/// records' offsets, and offsets finished without a window (a bad event or label, a label given up
/// on), which may be committed at once. Most steps have neither: the record waits in its open
/// window, or in the feedback join.
/// </summary>
public sealed record DriftStep<TOffset>(IReadOnlyList<ClosedWindow<TOffset>> Closed, IReadOnlyList<TOffset> Skipped)
{
    public static DriftStep<TOffset> Nothing { get; } = new([], []);
}

/// <summary>
/// One model's drift evaluation for one run of its stream: served events are read, their
/// version's reference is loaded (without blocking: the registry is asked asynchronously, once per
/// version), and they go into <see cref="DriftWindows"/>; the offsets of each window's events are
/// kept beside it (<see cref="WindowOffsets{TOffset}"/>) until the window closes. Feedback labels
/// are joined to the served events' predictions (<see cref="FeedbackJoin{TOffset}"/>, bounded) and
/// counted into the open window of the event's version, their offsets held with that window's; a
/// label that waits for its event holds its offset in the join until it matches or is given up.
/// A new run starts empty, because everything an old run held was not committed and is read again
/// (labels for events committed by an earlier run then find no event: <c>unknown_id</c>). Bad
/// events and labels are reported (<see cref="BadServedEvents"/>) and skipped. Not thread-safe: called one element at a
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
    private readonly WindowOffsets<TOffset> _heldLabels = new();
    private readonly FeedbackJoin<TOffset> _join;

    public DriftEvaluator(string model, VersionReferences references, DriftJobSettings settings, BadServedEvents bad, DriftMetrics metrics, PredictionBaselines? baselines = null)
    {
        _model = model;
        _references = references;
        _bad = bad;
        _metrics = metrics;
        _windows = new DriftWindows(model, references.Get, settings.Windows, settings.Statistics, baselines);
        _join = new FeedbackJoin<TOffset>(settings.Feedback);
    }

    /// <summary>Served events the join keeps for their label, and labels waiting for their event (for tests).</summary>
    internal (int Served, int Waiting) Joining => (_join.ServedCount, _join.WaitingCount);

    /// <summary>Events of <paramref name="version"/> waiting in its open window (for tests).</summary>
    internal int Held(int version) => _held.Held(version);

    /// <summary>
    /// Takes one served-events record: its value, its partition and offset, and the context to
    /// hand back with the window that uses it (or at once, when it is skipped). Given the clock's
    /// <paramref name="now"/>, labels that waited too long for their event are given up in the same
    /// step, so a busy stream (never idle) does not keep them.
    /// </summary>
    public async Task<DriftStep<TOffset>> AddAsync(byte[]? value, int partition, long offset, TOffset context, DateTimeOffset? now = null, CancellationToken cancellationToken = default)
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
        var released = Release(step.Closed);

        // Then labels that waited for this event count in the version's window that is open now.
        var skipped = new List<TOffset>();
        if (step.Prediction is { } prediction)
        {
            Join(_join.AddServed(prediction), skipped);
        }

        if (now is { } clock)
        {
            Join(_join.Expire(clock), skipped);
        }

        return Step(released, skipped);
    }

    /// <summary>
    /// Takes one feedback record: a label matched to a kept served event counts in the open window
    /// of the event's version (its context is handed back with that window); one read before its
    /// event waits in the join; a bad one, or one given up on, is handed back at once.
    /// </summary>
    public DriftStep<TOffset> AddFeedback(byte[]? value, int partition, long offset, TOffset context, DateTimeOffset now)
    {
        if (!FeedbackReader.TryRead(value, partition, offset, out var label, out var failure))
        {
            _bad.Report(failure);
            return new DriftStep<TOffset>([], [context]);
        }

        var skipped = new List<TOffset>();
        Join(_join.AddLabel(label, context, now), skipped);
        return Step([], skipped);
    }

    /// <summary>The stream is caught up and quiet: close, by the clock, windows whose span has passed, and give up labels that waited too long.</summary>
    public DriftStep<TOffset> Idle(DateTimeOffset now)
    {
        var skipped = new List<TOffset>();
        Join(_join.Expire(now), skipped);
        return Step(Release(_windows.Tick(now)), skipped);
    }

    private void Join(JoinStep<TOffset> step, List<TOffset> skipped)
    {
        if (step.ServedEvicted > 0)
        {
            _metrics.CountJoinEvictions(_model, step.ServedEvicted);
        }

        foreach (var missed in step.Missed)
        {
            _bad.Report(missed.Failure);
            skipped.Add(missed.Context);
        }

        foreach (var match in step.Matched)
        {
            if (_windows.AddLabel(match.Served, match.Label) is { } refused)
            {
                _bad.Report(refused);
                skipped.Add(match.Context);
                continue;
            }

            _metrics.CountLabel(_model);
            _heldLabels.Hold(match.Served.Version, match.Context);
        }
    }

    private static DriftStep<TOffset> Step(ClosedWindow<TOffset>[] closed, List<TOffset> skipped) =>
        closed.Length == 0 && skipped.Count == 0 ? DriftStep<TOffset>.Nothing : new DriftStep<TOffset>(closed, skipped);

    private DriftStep<TOffset> Skip(ServedEventFailure failure, TOffset context)
    {
        _bad.Report(failure);
        return new DriftStep<TOffset>([], [context]);
    }

    /// <summary>Each closed window with its events' offsets and those of every label counted into it (all its version held).</summary>
    private ClosedWindow<TOffset>[] Release(ImmutableArray<DriftWindowReport> closed) =>
        [.. closed.Select(report => new ClosedWindow<TOffset>(report,
            [.. _held.Release(report.Version, report.Events), .. _heldLabels.ReleaseAll(report.Version)]))];
}
