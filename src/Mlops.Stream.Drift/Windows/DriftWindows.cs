using System.Collections.Immutable;
using Mlops.Stream.Drift.Feedback;
using Mlops.Stream.Drift.Performance;

namespace Mlops.Stream.Drift.Windows;

/// <summary>
/// The drift job's core for one model, without Kafka: served events go in (bytes and their
/// record's partition and offset), closed and evaluated windows come out. Each model version has
/// its own tumbling window, because a canary and production must be judged apart. A window closes
/// at <see cref="WindowOptions.MaxEvents"/> events or <see cref="WindowOptions.MaxSpan"/> of served
/// time, whichever first.
/// <para>
/// Time is event time: an event's served timestamp closes every window (of any version) whose span
/// it has passed, so replaying a backlog gives the same windows as reading it live. A quiet stream
/// has no events to move time, so the job calls <see cref="Tick"/> with the clock when it is caught
/// up (not while it reads a backlog, where the clock is ahead of the events and would cut windows
/// short). Events arriving late, after their window closed, start the next window.
/// </para>
/// Not thread-safe: one job instance feeds it from one consumer loop.
/// </summary>
public sealed class DriftWindows
{
    private readonly string model;
    private readonly Func<int, VersionReference?> referenceOf;
    private readonly WindowOptions windows;
    private readonly DriftOptions drift;
    private readonly PredictionBaselines baselines;
    private readonly Dictionary<int, OpenWindow> open = [];

    /// <param name="model">The model whose served events are read; events naming another are refused.</param>
    /// <param name="referenceOf">
    /// The reference of a version, or null when the version is unknown. Looked up per event so the
    /// job can load versions registered after it started; cache in the delegate if lookups are costly.
    /// </param>
    /// <param name="windows">When windows close (defaults: 1,000 events, 5 minutes).</param>
    /// <param name="drift">Thresholds and method overrides for the statistics.</param>
    /// <param name="baselines">Each version's prediction baseline; pass the job's own so it outlives one run of its stream.</param>
    public DriftWindows(string model, Func<int, VersionReference?> referenceOf, WindowOptions? windows = null, DriftOptions? drift = null, PredictionBaselines? baselines = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(model);
        ArgumentNullException.ThrowIfNull(referenceOf);
        this.model = model;
        this.referenceOf = referenceOf;
        this.windows = windows ?? WindowOptions.Default;
        this.drift = drift ?? DriftOptions.Default;
        this.baselines = baselines ?? new PredictionBaselines();
    }

    /// <summary>
    /// Takes one served-events record. A bad event is returned as the step's failure and changes
    /// nothing (not even time); a good one may close windows whose time is up, then its own
    /// version's window when that one is full.
    /// </summary>
    public WindowStep Add(ReadOnlySpan<byte> servedEvent, int partition, long offset) =>
        ServedEventReader.TryRead(servedEvent, partition, offset, out var served, out var failure)
            ? Add(served)
            : WindowStep.Failed(failure);

    /// <summary>
    /// Takes one served event already read (<see cref="ServedEventReader"/>), for a job that must
    /// know the event's version first (to load its reference without blocking). Same rules as the
    /// bytes overload; on success the event is always in its version's window, or in the window it
    /// closed by count.
    /// </summary>
    public WindowStep Add(ServedEvent served)
    {
        ArgumentNullException.ThrowIfNull(served);
        if (!TryRows(served, out var window, out var rows, out var failure))
        {
            return WindowStep.Failed(failure);
        }

        var closed = ImmutableArray.CreateBuilder<DriftWindowReport>();
        CloseDue(served.ServedAt, closed);
        if (window.Events > 0 && !window.Fits(rows))
        {
            closed.Add(window.Close(WindowClose.Rows, drift));
        }

        var predicted = PredictionRows.From(served, window.Reference, rows.Rows);
        window.Add(served, rows, predicted);
        var prediction = predicted is null ? null : new ServedPrediction(
            served.Id, served.Version, window.Sequence, predicted.Classes, window.Reference.ClassLabels, predicted.Predicted, predicted.PositiveScores());
        if (window.Events >= windows.MaxEvents)
        {
            closed.Add(window.Close(WindowClose.Count, drift));
        }

        return new WindowStep(closed.ToImmutable(), null) { Prediction = prediction };
    }

    /// <summary>
    /// Counts a label that met its served event (<see cref="FeedbackJoin{TContext}"/>) into the open
    /// window of the event's version, whichever window the event was in: a label that comes after
    /// its event's window closed counts in the version's next window (as <c>late</c>). Null when
    /// counted; otherwise why not (a label naming no class, a window already full of labels).
    /// </summary>
    public FeedbackFailure? AddLabel(ServedPrediction served, FeedbackLabel label)
    {
        ArgumentNullException.ThrowIfNull(served);
        ArgumentNullException.ThrowIfNull(label);
        if (!label.TryResolve(served.Predicted.Length, served.Classes, served.ClassNames, out var actual, out var problem))
        {
            return new FeedbackFailure(FeedbackFailureReason.BadLabel, $"request {label.Id}: {problem}", label.Partition, label.Offset);
        }

        // The event was windowed, so its version's window exists (emptied, perhaps, but kept).
        var window = open[served.Version];
        var rows = actual.Select((a, r) => new LabelledPrediction(a, served.Predicted[r], served.PositiveScores[r])).ToArray();
        return window.AddLabelled(served.Window, served.Classes, rows) ? null
            : new FeedbackFailure(FeedbackFailureReason.WindowFull,
                $"request {label.Id}: version {served.Version}'s open window already holds {window.Labelled} labelled rows (at most {windows.MaxRows})",
                label.Partition, label.Offset);
    }

    /// <summary>
    /// Closes every window whose span has passed by <paramref name="now"/>, for a stream too quiet
    /// for its own events to do it. Call it with the clock only when the consumer is caught up.
    /// </summary>
    public ImmutableArray<DriftWindowReport> Tick(DateTimeOffset now)
    {
        var closed = ImmutableArray.CreateBuilder<DriftWindowReport>();
        CloseDue(now, closed);
        return closed.ToImmutable();
    }

    /// <summary>Events held by <paramref name="version"/>'s open window (0 when it has none).</summary>
    internal int HeldEvents(int version) => open.TryGetValue(version, out var w) ? w.Events : 0;

    /// <summary>Rows the open window's buffers of <paramref name="version"/> can hold.</summary>
    internal int HeldCapacity(int version) => open.TryGetValue(version, out var w) ? w.Capacity : 0;

    private bool TryRows(
        ServedEvent served,
        [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out OpenWindow? window,
        [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out FeatureRows? rows,
        [System.Diagnostics.CodeAnalysis.NotNullWhen(false)] out ServedEventFailure? failure)
    {
        window = null;
        rows = null;
        failure = null;
        if (served.Model != model)
        {
            failure = Failure(served, ServedEventFailureReason.WrongModel, $"event names model '{served.Model}', the job watches '{model}'");
            return false;
        }

        if (open.TryGetValue(served.Version, out window))
        {
            // Between two windows, a version whose reference changed (a new baseline) takes it.
            if (window.Events == 0 && referenceOf(served.Version) is { Features.IsDefaultOrEmpty: false } newer && !ReferenceEquals(newer, window.Reference))
            {
                window.Rebase(newer);
            }
        }
        else
        {
            var reference = referenceOf(served.Version);
            if (reference is null)
            {
                failure = Failure(served, ServedEventFailureReason.UnknownVersion, $"no reference for {model} version {served.Version}");
                return false;
            }

            if (reference.Features.IsDefaultOrEmpty)
            {
                failure = Failure(served, ServedEventFailureReason.NoReference, $"{model} version {served.Version} has no reference profile");
                return false;
            }

            window = new OpenWindow(model, reference, windows, baselines);
            open[served.Version] = window;
        }

        if (!FeatureRows.TryFrom(served, window.Reference, out rows, out failure))
        {
            return false;
        }

        if (rows.Rows > windows.MaxRows)
        {
            failure = Failure(served, ServedEventFailureReason.TooManyRows, $"{rows.Rows} rows, a window holds at most {windows.MaxRows}");
            rows = null;
            return false;
        }

        return true;
    }

    private void CloseDue(DateTimeOffset now, ImmutableArray<DriftWindowReport>.Builder closed)
    {
        // By version, so windows closed together come out in a stable order.
        foreach (var (_, window) in open.OrderBy(w => w.Key))
        {
            if (window.Events > 0 && now >= window.Deadline)
            {
                closed.Add(window.Close(WindowClose.Time, drift));
            }
        }
    }

    private static ServedEventFailure Failure(ServedEvent served, ServedEventFailureReason reason, string detail) =>
        new(reason, detail, served.Partition, served.Offset);
}

/// <summary>
/// What one served event did: the windows it closed (possibly several: windows of other versions
/// whose time was up, then its own when full) or, for a bad event, why it was left out.
/// </summary>
/// <param name="Closed">Windows closed by this event, evaluated; empty most of the time.</param>
/// <param name="Failure">Why the event was not used; null when it was.</param>
public sealed record WindowStep(ImmutableArray<DriftWindowReport> Closed, ServedEventFailure? Failure)
{
    /// <summary>The added event's predictions, for the feedback join; null for a bad event or one whose outputs hold none.</summary>
    public ServedPrediction? Prediction { get; init; }

    internal static WindowStep Failed(ServedEventFailure failure) => new([], failure);
}
