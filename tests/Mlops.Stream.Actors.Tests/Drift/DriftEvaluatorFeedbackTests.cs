using System.Text;
using Microsoft.Extensions.Logging.Abstractions;
using Mlops.Stream.Actors.Drift;
using Mlops.Stream.Actors.Metrics;
using Mlops.Stream.Actors.Tests.Support;
using Mlops.Stream.Drift.Feedback;
using Mlops.Stream.Drift.Windows;
using static Mlops.Stream.Actors.Tests.Drift.DriftEvents;

namespace Mlops.Stream.Actors.Tests.Drift;

/// <summary>
/// Feedback labels in the drift job's evaluation, without Kafka: a label joins its served event
/// whichever comes first, counts in the open window of the event's version and its offset comes
/// out with that window; bad records and labels never matched come out at once, counted by kind.
/// Offsets are plain numbers: served events 0.., labels 100...
/// </summary>
public sealed class DriftEvaluatorFeedbackTests : IDisposable
{
    private const string Model = "drift-feedback";
    private readonly TempDirectory _folder = new("drift-feedback-");
    private readonly DriftMetrics _metrics = DriftMetrics.Detached();

    public void Dispose() => _folder.Dispose();

    private static readonly double[] Fraud = [0.9, 0.2, 0.7, 0.4];   // predicted 1, 0, 1, 0

    private static byte[] Label(string id, string label) => Encoding.UTF8.GetBytes($$"""{"id":"{{id}}","label":{{label}}}""");

    [Fact]
    public async Task Labels_after_their_window_closed_count_in_the_next_and_are_committed_with_it()
    {
        var evaluator = await EvaluatorAsync(maxEvents: 4);
        var first = new List<ClosedWindow<long>>();
        for (var i = 0; i < 4; i++) first.AddRange((await evaluator.AddAsync(Served(Model, i, T0.AddSeconds(i), fraud: Fraud[i]), 0, i, i)).Closed);
        Assert.Equal([0L, 1L, 2L, 3L], Assert.Single(first).Offsets);
        Assert.Equal(0, first[0].Report.Performance!.Labelled);

        // Labels for r-0 (right: fraud), r-1 (wrong: it was fraud, predicted legit) and r-3 (right, by name).
        Assert.Same(DriftStep<long>.Nothing, evaluator.AddFeedback(Label("r-0", "1"), 0, 100, 100, T0));
        Assert.Same(DriftStep<long>.Nothing, evaluator.AddFeedback(Label("r-1", "\"fraud\""), 0, 101, 101, T0));
        Assert.Same(DriftStep<long>.Nothing, evaluator.AddFeedback(Label("r-3", "\"legit\""), 0, 102, 102, T0));

        var second = new List<ClosedWindow<long>>();
        for (var i = 4; i < 8; i++) second.AddRange((await evaluator.AddAsync(Served(Model, i, T0.AddSeconds(i), fraud: Fraud[i - 4]), 0, i, i)).Closed);
        var window = Assert.Single(second);
        Assert.Equal([4L, 5L, 6L, 7L, 100L, 101L, 102L], window.Offsets);
        var performance = window.Report.Performance!;
        Assert.Equal((3, 3, 2.0 / 3), (performance.Labelled, performance.Late, performance.Accuracy!.Value));
        Assert.Equal(3, Sample("mlops_drift_labels_total"));
    }

    [Fact]
    public async Task A_label_read_before_its_event_waits_for_it_and_counts_in_its_window()
    {
        var evaluator = await EvaluatorAsync(maxEvents: 2);
        Assert.Same(DriftStep<long>.Nothing, evaluator.AddFeedback(Label("r-1", "0"), 3, 100, 100, T0));
        Assert.Equal((0, 1), evaluator.Joining);

        await evaluator.AddAsync(Served(Model, 0, T0, fraud: 0.9), 0, 0, 0);
        Assert.Equal((1, 1), evaluator.Joining);
        var window = Assert.Single((await evaluator.AddAsync(Served(Model, 1, T0, fraud: 0.2), 0, 1, 1)).Closed);

        Assert.Equal([0L, 1L], window.Offsets);   // the label came after the window closed by this event's count
        Assert.Equal((1, 0), evaluator.Joining);
        Assert.Empty((await evaluator.AddAsync(Served(Model, 2, T0, fraud: 0.2), 0, 2, 2)).Closed);
        var next = Assert.Single((await evaluator.AddAsync(Served(Model, 3, T0, fraud: 0.2), 0, 3, 3)).Closed);
        Assert.Equal([2L, 3L, 100L], next.Offsets);
        Assert.Equal((1, 1, 1.0), (next.Report.Performance!.Labelled, next.Report.Performance.Late, next.Report.Performance.Accuracy!.Value));
    }

    [Fact]
    public async Task Bad_feedback_is_handed_back_at_once_counted_by_kind_and_the_evaluation_goes_on()
    {
        var evaluator = await EvaluatorAsync(maxEvents: 2, labelWait: TimeSpan.FromMinutes(1));
        await evaluator.AddAsync(Served(Model, 0, T0, fraud: 0.9), 0, 0, 0);

        Assert.Equal([100L], evaluator.AddFeedback(Encoding.UTF8.GetBytes("not json"), 0, 100, 100, T0).Skipped);
        Assert.Equal([101L], evaluator.AddFeedback(null, 0, 101, 101, T0).Skipped);
        Assert.Equal([102L], evaluator.AddFeedback(Encoding.UTF8.GetBytes("""{"label":1}"""), 0, 102, 102, T0).Skipped);
        Assert.Equal([103L], evaluator.AddFeedback(Label("r-0", "7"), 0, 103, 103, T0).Skipped);   // no class 7: the event is used up
        Assert.Same(DriftStep<long>.Nothing, evaluator.AddFeedback(Label("never-served", "1"), 0, 104, 104, T0));

        Assert.Same(DriftStep<long>.Nothing, evaluator.Idle(T0.AddSeconds(59)));
        Assert.Equal([104L], evaluator.Idle(T0.AddMinutes(1)).Skipped);

        Assert.Equal(2, Sample("mlops_drift_bad_feedback_total", ("kind", "unreadable")));
        Assert.Equal(1, Sample("mlops_drift_bad_feedback_total", ("kind", "missing_id")));
        Assert.Equal(1, Sample("mlops_drift_bad_feedback_total", ("kind", "bad_label")));
        Assert.Equal(1, Sample("mlops_drift_bad_feedback_total", ("kind", "unknown_id")));
        Assert.Equal(1, Sample("mlops_drift_unmatched_labels_total"));
        Assert.Equal(0, Sample("mlops_drift_labels_total"));
        Assert.Single((await evaluator.AddAsync(Served(Model, 1, T0, fraud: 0.2), 0, 1, 1)).Closed);
    }

    [Fact]
    public async Task On_a_busy_stream_served_events_give_up_labels_that_waited_too_long()
    {
        var evaluator = await EvaluatorAsync(maxEvents: 100, labelWait: TimeSpan.FromMinutes(1));
        Assert.Same(DriftStep<long>.Nothing, evaluator.AddFeedback(Label("never-served", "1"), 0, 100, 100, T0));

        Assert.Empty((await evaluator.AddAsync(Served(Model, 0, T0, fraud: 0.9), 0, 0, 0, now: T0.AddSeconds(59))).Skipped);
        Assert.Equal([100L], (await evaluator.AddAsync(Served(Model, 1, T0, fraud: 0.9), 0, 1, 1, now: T0.AddMinutes(1))).Skipped);
        Assert.Equal(1, Sample("mlops_drift_unmatched_labels_total"));
    }

    [Fact]
    public async Task Served_events_beyond_the_join_bound_are_evicted_and_counted()
    {
        var evaluator = await EvaluatorAsync(maxEvents: 100, joinEvents: 3);
        for (var i = 0; i < 5; i++) await evaluator.AddAsync(Served(Model, i, T0, fraud: 0.9), 0, i, i);

        Assert.Equal((3, 0), evaluator.Joining);
        Assert.Equal(2, Sample("mlops_drift_join_evictions_total"));
    }

    private async Task<DriftEvaluator<long>> EvaluatorAsync(int maxEvents, TimeSpan? labelWait = null, int joinEvents = 1000)
    {
        var registry = await RegistryAsync(_folder, Model);
        var references = new VersionReferences(registry, Model, TimeSpan.FromSeconds(30), NullLogger.Instance);
        var settings = new DriftJobSettings
        {
            Windows = new WindowOptions { MaxEvents = maxEvents, MaxSpan = TimeSpan.FromHours(1) },
            Feedback = new FeedbackJoinOptions { MaxServed = joinEvents, LabelWait = labelWait ?? TimeSpan.FromMinutes(5) },
        };
        var bad = new BadServedEvents(Model, _metrics, NullLogger.Instance);
        _metrics.Track(new DriftGauges(Model));
        return new DriftEvaluator<long>(Model, references, settings, bad, _metrics);
    }

    private double Sample(string name, params (string Label, string Value)[] labels) => MetricSample.Read(_metrics.Registry, name, Model, labels);
}
