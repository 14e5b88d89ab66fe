using System.Text;
using Akka.Streams;
using Microsoft.Extensions.Logging.Abstractions;
using Mlops.Stream.Actors.Drift;
using Mlops.Stream.Actors.Metrics;
using Mlops.Stream.Drift.Windows;
using Mlops.Stream.Kafka.Dsl;
using Mlops.Stream.Kafka.Embedded;
using Xunit.Abstractions;
using static Mlops.Stream.Actors.Tests.Drift.DriftEvents;

namespace Mlops.Stream.Actors.Tests.Drift;

/// <summary>
/// A model's drift job on an embedded broker: served events in (three partitions), one record per
/// closed window on the drift topic, the served events committed only with the window that used
/// them, bad records skipped and committed, a restart reading again what the open window held, a
/// broker outage waited out. Each test has its own broker and model.
/// </summary>
public sealed class DriftPipelineTests(ITestOutputHelper output) : Akka.TestKit.Xunit2.TestKit(output: output), IDisposable
{
    private static readonly TimeSpan Guard = TimeSpan.FromMinutes(1);
    private readonly TempDirectory _folder = new("drift-pipeline-");
    private readonly DriftMetrics _metrics = DriftMetrics.Detached();
    private readonly EmbeddedKafka _broker = EmbeddedKafka.Start();
    private Inference.Registry.FolderModelRegistry? _registry;

    protected override void Dispose(bool disposing)
    {
        base.Dispose(disposing);
        _broker.Dispose();
        _folder.Dispose();
    }

    [Fact]
    public async Task Each_closed_window_is_written_to_the_drift_topic_and_only_then_are_its_served_events_committed()
    {
        var kafka = new DriftKafka(_broker.BootstrapServers, "drift-commit").CreateTopics(_broker);
        await kafka.ProduceServedAsync(Enumerable.Range(0, 450).Select(i => Served(kafka.Model, i, T0.AddMilliseconds(i))));

        var control = await RunAsync(kafka, maxEvents: 200);
        await WaitUntilCommittedAsync(kafka, control, 400, "two windows' events are committed");

        var windows = kafka.Windows();
        Assert.Equal(2, windows.Count);
        Assert.All(windows, w => Assert.Equal((kafka.Model, 1, 200, WindowClose.Count), (w.Model, w.Version, w.Events, w.ClosedBy)));
        // Per partition the windows used consecutive offsets; the committed offset is just past the last one used.
        var used = windows.SelectMany(w => w.Offsets).GroupBy(o => o.Partition).ToDictionary(g => g.Key, g => g.OrderBy(o => o.First).ToList());
        foreach (var (partition, ranges) in used)
        {
            Assert.Equal(0, ranges[0].First);
            if (ranges.Count == 2) Assert.Equal(ranges[0].Last + 1, ranges[1].First);
            Assert.Equal(ranges[^1].Last + 1, kafka.Committed()[partition]);
        }
        Assert.Equal(400, windows.SelectMany(w => w.Offsets).Sum(o => o.Last - o.First + 1));
        Assert.False(control.StreamCompletion.IsCompleted, "the job keeps running");
        Assert.Equal(400, kafka.Committed().Values.Sum());   // the open window's 50 events stay uncommitted

        var text = await MetricsText();
        Assert.Contains($"mlops_drift_windows_total{{model=\"{kafka.Model}\",version=\"1\"}} 2\n", text);
        Assert.Contains($"mlops_drift_detected{{model=\"{kafka.Model}\",version=\"1\"}} 0\n", text);
        Assert.Contains($"mlops_drift_events_total{{model=\"{kafka.Model}\"}} 450\n", text);
        Assert.Contains($"mlops_drift_score{{model=\"{kafka.Model}\",version=\"1\",feature=\"amount\",method=\"population_stability_index\"}}", text);
        await StopAsync(control);
    }

    [Fact]
    public async Task A_malformed_record_is_counted_and_committed_and_the_windows_go_on_without_it()
    {
        var kafka = new DriftKafka(_broker.BootstrapServers, "drift-bad").CreateTopics(_broker);
        byte[]?[] values = [.. Enumerable.Range(0, 100).Select(i => Served(kafka.Model, i, T0)), Encoding.UTF8.GetBytes("{\"id\":"), null,
            .. Enumerable.Range(100, 100).Select(i => Served(kafka.Model, i, T0))];
        await kafka.ProduceServedAsync(values);

        var control = await RunAsync(kafka, maxEvents: 200);
        await WaitUntilCommittedAsync(kafka, control, 202, "every record, the bad two included, is committed");

        var window = Assert.Single(kafka.Windows());
        Assert.Equal(200, window.Events);
        Assert.Contains($"mlops_drift_bad_events_total{{model=\"{kafka.Model}\",kind=\"unreadable\"}} 2\n", await MetricsText());
        await StopAsync(control);
    }

    [Fact]
    public async Task A_job_started_again_reads_again_the_events_its_open_window_held()
    {
        var kafka = new DriftKafka(_broker.BootstrapServers, "drift-restart").CreateTopics(_broker);
        await kafka.ProduceServedAsync(Enumerable.Range(0, 250).Select(i => Served(kafka.Model, i, T0.AddMilliseconds(i))));
        var first = await RunAsync(kafka, maxEvents: 200);
        await WaitUntilCommittedAsync(kafka, first, 200, "the first window's events are committed");
        await Eventually.HoldsAsync(() => first.Metrics.Consumed == 250, "the job has read the other 50 into its open window", Guard, () => first.Metrics);
        await StopAsync(first);
        Assert.Equal(200, kafka.Committed().Values.Sum());

        var second = await RunAsync(kafka, maxEvents: 200);
        await kafka.ProduceServedAsync(Enumerable.Range(250, 150).Select(i => Served(kafka.Model, i, T0.AddMilliseconds(i))));
        await WaitUntilCommittedAsync(kafka, second, 400, "the second window's events are committed");

        var windows = kafka.Windows();
        Assert.Equal([200, 200], windows.Select(w => w.Events));
        Assert.Equal(400, windows.SelectMany(w => w.Offsets).Sum(o => o.Last - o.First + 1));   // no event in two windows, none lost
        await StopAsync(second);
    }

    [Fact]
    public async Task Labels_are_committed_with_the_window_that_counted_them_and_a_bad_one_at_once()
    {
        var kafka = new DriftKafka(_broker.BootstrapServers, "drift-labels").CreateTopics(_broker);
        await kafka.ProduceServedAsync(Enumerable.Range(0, 200).Select(i => Served(kafka.Model, i, T0.AddMilliseconds(i), fraud: i % 4 == 0 ? 0.9 : 0.1)));
        var control = await RunAsync(kafka, maxEvents: 200);
        await WaitUntilCommittedAsync(kafka, control, 200, "the first window is committed");

        // A bad record first, then the true class of r-0..r-9 (r-0, r-4, r-8 predicted fraud; all ten are legit).
        await kafka.ProduceFeedbackAsync([Encoding.UTF8.GetBytes("not json"), .. Enumerable.Range(0, 10).Select(i => Encoding.UTF8.GetBytes($$"""{"id":"r-{{i}}","label":0}"""))]);
        await Eventually.HoldsAsync(async () => (await MetricsText()).Contains($"mlops_drift_labels_total{{model=\"{kafka.Model}\"}} 10\n"),
            "the ten labels are joined", Guard);
        await Eventually.HoldsAsync(() => kafka.CommittedFeedback() == 1, "the bad record is committed at once", Guard, () => kafka.CommittedFeedback());
        Assert.Equal(1, kafka.CommittedFeedback());   // the labels wait in the open window

        await kafka.ProduceServedAsync(Enumerable.Range(200, 200).Select(i => Served(kafka.Model, i, T0.AddMilliseconds(i), fraud: 0.1)));
        await WaitUntilCommittedAsync(kafka, control, 400, "the second window is committed");
        await Eventually.HoldsAsync(() => kafka.CommittedFeedback() == 11, "the labels are committed with their window", Guard, () => kafka.CommittedFeedback());

        var performance = kafka.Windows()[1].Performance!;
        Assert.Equal((10, 10, 0.7), (performance.Labelled, performance.Late, performance.Accuracy!.Value));
        await StopAsync(control);
    }

    [Fact]
    public async Task A_broker_outage_pauses_the_job_and_it_resumes_where_it_was()
    {
        var kafka = new DriftKafka(_broker.BootstrapServers, "drift-outage").CreateTopics(_broker);
        await kafka.ProduceServedAsync(Enumerable.Range(0, 200).Select(i => Served(kafka.Model, i, T0.AddMilliseconds(i))));
        var control = await RunAsync(kafka, maxEvents: 200);
        await WaitUntilCommittedAsync(kafka, control, 200, "the first window is committed");

        _broker.SetBrokerDown(1);
        await Eventually.HoldsAsync(() => !kafka.Health.IsReachable, "the outage is reported", Guard);
        Assert.False(control.StreamCompletion.IsCompleted, "an outage must not stop the job");
        _broker.SetBrokerUp(1);

        await kafka.ProduceServedAsync(Enumerable.Range(200, 200).Select(i => Served(kafka.Model, i, T0.AddMilliseconds(i))));
        await WaitUntilCommittedAsync(kafka, control, 400, "the second window is committed");
        Assert.Equal(2, kafka.Windows().Count);
        await Eventually.HoldsAsync(() => kafka.Health.IsReachable, "the recovery is reported", Guard);
        await StopAsync(control);
    }

    private async Task<DrainingControl<Akka.Done>> RunAsync(DriftKafka kafka, int maxEvents)
    {
        _registry ??= await RegistryAsync(_folder, kafka.Model);
        var registry = _registry;
        var settings = new DriftJobSettings { Windows = new WindowOptions { MaxEvents = maxEvents } };
        var references = new VersionReferences(registry, kafka.Model, settings.RetryUnknownVersionAfter, NullLogger.Instance);
        return new DriftPipeline(kafka.Model, kafka.Topics, kafka.Settings, settings, references,
            new BadServedEvents(kafka.Model, _metrics, NullLogger.Instance), _metrics, NullLogger.Instance).Run(Sys.Materializer());
    }

    /// <summary>Waits until the drift group has committed <paramref name="records"/> served events; a failed stream fails the wait at once with its cause.</summary>
    private static Task WaitUntilCommittedAsync(DriftKafka kafka, DrainingControl<Akka.Done> control, int records, string what) =>
        Eventually.HoldsAsync(
            () => control.StreamCompletion.IsFaulted ? throw control.StreamCompletion.Exception! : kafka.Committed().Values.Sum() == records,
            what, Guard, kafka.Committed);

    /// <summary>Drains the job (commits what completed, closes the consumer) and checks that its stream and consumer stopped.</summary>
    private static async Task StopAsync(DrainingControl<Akka.Done> control)
    {
        await control.DrainAndShutdown().WaitAsync(Guard);
        await control.IsShutdown.WaitAsync(Guard);
        Assert.True(control.StreamCompletion.IsCompletedSuccessfully);
    }

    private async Task<string> MetricsText()
    {
        using var stream = new MemoryStream();
        await _metrics.Registry.CollectAndExportAsTextAsync(stream);
        return Encoding.UTF8.GetString(stream.ToArray());
    }
}
