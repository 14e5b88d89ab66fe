using System.Text;
using Microsoft.Extensions.Logging.Abstractions;
using Mlops.Stream.Actors.Drift;
using Mlops.Stream.Actors.Metrics;
using Mlops.Stream.Actors.Tests.Support;
using Mlops.Stream.Drift;
using Mlops.Stream.Drift.Windows;
using Prometheus;
using static Mlops.Stream.Actors.Tests.Drift.DriftEvents;

namespace Mlops.Stream.Actors.Tests.Drift;

/// <summary>
/// The drift job's evaluation without Kafka: served events of the demo model go in with their
/// offsets; windows come out with exactly the offsets of the events they used; bad events are
/// skipped at once, counted and the job goes on. Offsets are plain numbers here.
/// </summary>
public sealed class DriftEvaluatorTests : IDisposable
{
    private const string Model = "drift-eval";
    private readonly TempDirectory _folder = new("drift-eval-");
    private readonly DriftMetrics _metrics = DriftMetrics.Detached();
    private readonly ManualTimeProvider _clock = new();

    public void Dispose() => _folder.Dispose();

    [Fact]
    public async Task Reference_like_events_fill_a_stable_window_that_carries_every_offset_it_used()
    {
        var evaluator = await EvaluatorAsync(maxEvents: 200);
        var steps = new List<DriftStep<long>>();
        for (var i = 0; i < 450; i++)
            steps.Add(await evaluator.AddAsync(Served(Model, i, T0.AddMilliseconds(i)), partition: i % 3, offset: i, context: i));

        var windows = steps.SelectMany(s => s.Closed).ToList();
        Assert.Equal(2, windows.Count);
        Assert.Equal(Enumerable.Range(0, 200).Select(i => (long)i), windows[0].Offsets);
        Assert.Equal(Enumerable.Range(200, 200).Select(i => (long)i), windows[1].Offsets);
        Assert.All(windows, w => Assert.Equal((DriftVerdict.Stable, 200, WindowClose.Count), (w.Report.Dataset.Verdict, w.Report.Events, w.Report.ClosedBy)));
        Assert.Equal(30, windows[0].Report.Features.Length);
        Assert.Equal(50, evaluator.Held(1));
        Assert.All(steps, s => Assert.Empty(s.Skipped));
        Assert.Equal(450, Sample("mlops_drift_events_total", Model));
    }

    [Fact]
    public async Task Events_shifted_by_two_standard_deviations_make_a_window_with_dataset_drift()
    {
        var evaluator = await EvaluatorAsync(maxEvents: 200);
        DriftStep<long>? last = null;
        for (var i = 0; i < 200; i++)
            last = await evaluator.AddAsync(Served(Model, i, T0.AddMilliseconds(i), sigmas: 2), 0, i, i);

        var window = Assert.Single(last!.Closed);
        Assert.True(window.Report.Dataset.Drifted, $"share {window.Report.Dataset.DriftedShare}");
        Assert.True(window.Report.Dataset.DriftedShare >= 0.5);
    }

    [Fact]
    public async Task A_bad_event_is_skipped_at_once_counted_by_kind_and_left_out_of_the_window()
    {
        var evaluator = await EvaluatorAsync(maxEvents: 5);
        var closed = new List<ClosedWindow<long>>();
        var skipped = new List<long>();
        for (var offset = 0; offset < 8; offset++)
        {
            var value = offset switch
            {
                2 => Encoding.UTF8.GetBytes("not json"),
                4 => null,   // a tombstone
                6 => Served(Model, offset, T0, version: 9),   // no such version in the registry
                _ => Served(Model, offset, T0.AddSeconds(offset)),
            };
            var step = await evaluator.AddAsync(value, 0, offset, offset);
            closed.AddRange(step.Closed);
            skipped.AddRange(step.Skipped);
        }

        Assert.Equal([2L, 4L, 6L], skipped);
        var window = Assert.Single(closed);
        Assert.Equal([0L, 1L, 3L, 5L, 7L], window.Offsets);
        Assert.Equal(2, Sample("mlops_drift_bad_events_total", Model, ("kind", "unreadable")));
        Assert.Equal(1, Sample("mlops_drift_bad_events_total", Model, ("kind", "unknown_version")));
    }

    [Fact]
    public async Task A_window_closed_by_time_before_the_event_that_closed_it_does_not_hold_that_event()
    {
        var evaluator = await EvaluatorAsync(maxEvents: 1000, span: TimeSpan.FromMinutes(1));
        await evaluator.AddAsync(Served(Model, 0, T0), 0, 100, 100);
        await evaluator.AddAsync(Served(Model, 1, T0.AddSeconds(30)), 1, 7, 7);

        var step = await evaluator.AddAsync(Served(Model, 2, T0.AddSeconds(61)), 0, 101, 101);

        var window = Assert.Single(step.Closed);
        Assert.Equal(WindowClose.Time, window.Report.ClosedBy);
        Assert.Equal([100L, 7L], window.Offsets);
        Assert.Equal(1, evaluator.Held(1));
    }

    [Fact]
    public async Task Going_idle_closes_by_the_clock_a_quiet_window_whose_span_has_passed()
    {
        var evaluator = await EvaluatorAsync(maxEvents: 1000, span: TimeSpan.FromMinutes(5));
        await evaluator.AddAsync(Served(Model, 0, T0), 0, 0, 0);
        await evaluator.AddAsync(Served(Model, 1, T0.AddSeconds(1)), 0, 1, 1);

        Assert.Same(DriftStep<long>.Nothing, evaluator.Idle(T0.AddMinutes(4)));
        var window = Assert.Single(evaluator.Idle(T0.AddMinutes(5)).Closed);

        Assert.Equal((WindowClose.Time, 2), (window.Report.ClosedBy, window.Report.Events));
        Assert.Equal([0L, 1L], window.Offsets);
    }

    [Fact]
    public async Task A_version_registered_after_its_first_events_is_found_once_the_retry_interval_has_passed()
    {
        var registry = await RegistryAsync(_folder, Model);
        var references = new VersionReferences(registry, Model, TimeSpan.FromSeconds(30), NullLogger.Instance, _clock);
        var evaluator = Evaluator(references, maxEvents: 2);

        Assert.Equal([0L], (await evaluator.AddAsync(Served(Model, 0, T0, version: 2), 0, 0, 0)).Skipped);
        await registry.RegisterVersionAsync(DemoFixture.Model.Registration with { Model = Model, Version = 2 });
        Assert.Equal([1L], (await evaluator.AddAsync(Served(Model, 1, T0, version: 2), 0, 1, 1)).Skipped);   // still remembered as unknown

        _clock.Advance(TimeSpan.FromSeconds(30));
        Assert.Empty((await evaluator.AddAsync(Served(Model, 2, T0, version: 2), 0, 2, 2)).Skipped);
        var window = Assert.Single((await evaluator.AddAsync(Served(Model, 3, T0, version: 2), 0, 3, 3)).Closed);
        Assert.Equal(2, window.Report.Version);
        Assert.Equal([2L, 3L], window.Offsets);
    }

    private async Task<DriftEvaluator<long>> EvaluatorAsync(int maxEvents, TimeSpan? span = null)
    {
        var registry = await RegistryAsync(_folder, Model);
        return Evaluator(new VersionReferences(registry, Model, TimeSpan.FromSeconds(30), NullLogger.Instance, _clock), maxEvents, span);
    }

    private DriftEvaluator<long> Evaluator(VersionReferences references, int maxEvents, TimeSpan? span = null) =>
        new(Model, references,
            new DriftJobSettings { Windows = new WindowOptions { MaxEvents = maxEvents, MaxSpan = span ?? TimeSpan.FromMinutes(5) } },
            new BadServedEvents(Model, _metrics, NullLogger.Instance), _metrics);

    private double Sample(string name, string model, params (string Label, string Value)[] labels) => MetricSample.Read(_metrics.Registry, name, model, labels);
}
