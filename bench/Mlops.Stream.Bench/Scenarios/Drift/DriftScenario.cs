using System.Diagnostics;
using Confluent.Kafka;
using Mlops.Stream.Actors.Drift;
using Mlops.Stream.Bench.Cluster;
using Mlops.Stream.Bench.Scenarios.Pipeline;
using Mlops.Stream.Demo;
using Mlops.Stream.Drift.Windows;
using Mlops.Stream.Inference.Registry;

namespace Mlops.Stream.Bench.Scenarios.Drift;

/// <summary>
/// Issue 11's drift bench, in one run: the served capacity of one node process on Kafka (its own
/// drift job off: a backlog of requests drained end to end, as the pipeline bench measures it), then
/// one drift job (the host's standalone <c>drift</c> verb, its own process) reading the served events
/// that drain wrote, 1,000-event windows of the demo model's 30 features, judged and written to the
/// drift topic. The job's rate is windows × 1,000 events over the time between its first and last
/// window records (their broker timestamps), so process start-up is not in it. Also the evaluation
/// core alone (<see cref="DriftWindows"/> in this process over the same served events, no Kafka),
/// to show where the job's time goes. Goal: job rate ≥ 3 × served capacity. Reported, never asserted.
/// </summary>
public static class DriftScenario
{
    public const string Usage = "drift: --requests N (served events to judge, default 20000) --warmup N (default 2000) --replays N (the served events written again for the warm job, default 2)";

    private const string Model = DemoModelBuilder.DefaultModelName;
    private const int WindowEvents = 1000;
    private const double Goal = 3;
    private static readonly TimeSpan JobTimeout = TimeSpan.FromMinutes(3);
    private static readonly TimeSpan QuietTimeout = TimeSpan.FromSeconds(30);

    public static async Task<BenchResult> RunAsync(BenchArgs args)
    {
        var requests = args.Int("requests", 20_000);
        var warmup = args.Int("warmup", 2_000);
        var replays = args.Int("replays", 2);
        if (replays < 1) throw new ArgumentException("--replays must be at least 1");
        using var cluster = await LocalCluster.StartAsync(Model, nodes: 1, extraArguments: ["--Drift:Enabled=false"]);
        ConsoleCancelEventHandler onCancel = (_, _) => cluster.KillNodes();
        Console.CancelKeyPress += onCancel;
        try
        {
            return await MeasureAsync(cluster, requests, warmup, replays);
        }
        catch
        {
            Console.Error.WriteLine(cluster.Tails());
            throw;
        }
        finally
        {
            Console.CancelKeyPress -= onCancel;
        }
    }

    private static async Task<BenchResult> MeasureAsync(LocalCluster cluster, int requests, int warmup, int replays)
    {
        var loadAtStart = PipelineScenario.LoadAverage();
        var partitions = NodeDrain.PartitionsOf(cluster.Topics.Requests);
        var models = new NodeModels(cluster);
        var drain = new NodeDrain(cluster, models);
        await models.WaitServingAsync(Model, partitions);
        var manifest = await new FolderModelRegistry(cluster.RegistryPath).GetManifestAsync(Model, 1);
        Console.WriteLine($"drift: one node process (pid {cluster.Nodes[0].Id}) and the embedded broker on {Environment.ProcessorCount} cores; " +
            $"model {Model} ({manifest.ReferenceProfile.Length} profiled features), {requests:N0} requests drained, windows of {WindowEvents:N0} events");

        // Serving capacity: JIT and first batches unmeasured, then a backlog drained end to end.
        await drain.WarmUpAsync(warmup);
        await models.UndeployAsync(Model);
        var backlog = RequestBacklog.Produce(cluster.Broker.BootstrapServers, cluster.Topics.Requests, "drift-capacity", requests);
        var served = await drain.RunAsync(backlog);
        Console.WriteLine($"served capacity: {served.RequestsPerSecond:N0} requests/s ({served.Requests:N0} in {served.Seconds:F2} s, node busy {served.CoresBusy:F2} cores)");

        // The served topic now holds every served event of the warm-up and the drain: the job reads them all.
        var events = ServedEvents.ReadAll(cluster.Broker.BootstrapServers, cluster.Topics.Served, NodeDrain.PartitionsOf(cluster.Topics.Served));
        var (job, warm) = await JobAsync(cluster, events, replays);
        Console.WriteLine($"drift job, first pass (new process): {job}");
        Console.WriteLine($"drift job, warm (the same events again): {warm}");

        var core = Core(manifest, events);
        Console.WriteLine($"evaluation core (no Kafka): {core.EventsPerSecond:N0} events/s ({core.Windows} windows, of which evaluating them {core.EvaluationShare:P0} of the time)");

        var servedCpu = served.Cost.CpuSeconds * 1e6 / served.Requests;
        Console.WriteLine($"CPU: node {servedCpu:F1} µs per served request; drift job {job.CpuMicrosecondsPerEvent:F1} µs per event cold, {warm.CpuMicrosecondsPerEvent:F1} µs warm");

        var ratio = job.EventsPerSecond / served.RequestsPerSecond;
        var warmRatio = warm.EventsPerSecond / served.RequestsPerSecond;
        Console.WriteLine($"goal: drift job ≥ {Goal}x served capacity: cold {ratio:F2}x, warm {warmRatio:F2}x, {(warmRatio >= Goal ? "met" : "MISSED")} (judged warm)");
        return new BenchResult("drift")
            .Add("served_requests_per_second", "served capacity (node, Kafka end to end)", served.RequestsPerSecond, "requests/s")
            .Add("drift_job_events_per_second", "drift job (standalone process, Kafka in and out)", job.EventsPerSecond, "events/s")
            .Add("drift_job_to_served_ratio", "drift job / served capacity", ratio, "x (goal >= 3)")
            .Add("drift_job_second_half_events_per_second", "drift job, second half of its windows only", job.SecondHalfEventsPerSecond, "events/s")
            .Add("drift_job_second_half_to_served_ratio", "drift job second half / served capacity", job.SecondHalfEventsPerSecond / served.RequestsPerSecond, "x")
            .Add("drift_job_warm_events_per_second", "drift job, warm (the served events again)", warm.EventsPerSecond, "events/s")
            .Add("drift_job_warm_to_served_ratio", "warm drift job / served capacity", warmRatio, "x (goal >= 3)")
            .Add("served_cpu_us_per_request", "node CPU per served request (during the drain)", servedCpu, "µs")
            .Add("drift_job_cpu_us_per_event", "drift job CPU per event, first pass (first to last window)", job.CpuMicrosecondsPerEvent, "µs")
            .Add("drift_job_warm_cpu_us_per_event", "drift job CPU per event, warm", warm.CpuMicrosecondsPerEvent, "µs")
            .Add("served_cpu_to_drift_job_warm_cpu", "node CPU per request / warm job CPU per event", servedCpu / warm.CpuMicrosecondsPerEvent, "x")
            .Add("drift_core_events_per_second", "evaluation core alone (DriftWindows, no Kafka)", core.EventsPerSecond, "events/s")
            .Add("drift_core_evaluation_share", "core: share of time judging closed windows", core.EvaluationShare, "")
            .Add("drift_job_windows", "drift job windows timed", job.Windows, "windows")
            .Note("features", manifest.ReferenceProfile.Length)
            .Note("window_events", WindowEvents)
            .Note("replays", replays)
            .Note("served_events", events.Count)
            .Note("goal_met", warmRatio >= Goal)
            .Note("cores", Environment.ProcessorCount)
            .Note("load_average_start", loadAtStart)
            .Note("load_average_end", PipelineScenario.LoadAverage());
    }

    /// <param name="SecondHalfEventsPerSecond">
    /// The rate over the second half of the windows only: the job process is new, and in its first
    /// second or two the JIT is still replacing quickly compiled code by optimized code.
    /// </param>
    /// <param name="CpuMicrosecondsPerEvent">
    /// The job process's CPU time (all threads) from when its first window was seen to when its last
    /// one was, per event judged in between: what an event costs, whatever else runs on the machine.
    /// </param>
    private sealed record JobRate(int Windows, int Events, double Seconds, double SecondHalfEventsPerSecond, double CpuMicrosecondsPerEvent)
    {
        public double EventsPerSecond => Events / Seconds;

        public override string ToString() =>
            $"{EventsPerSecond:N0} events/s ({Windows} windows, {Events:N0} events between the first and last window, {Seconds:F2} s; " +
            $"second half {SecondHalfEventsPerSecond:N0} events/s), {CpuMicrosecondsPerEvent:F1} µs of CPU per event";
    }

    /// <summary>The job timed twice: on its first pass over the served events (a new process) and on a replay of them once it is warm.</summary>
    private sealed record JobRates(JobRate Cold, JobRate Warm);

    /// <summary>
    /// Starts the standalone drift job on the served topic and times its first pass over the served
    /// events (cold: a new process, its code mostly not yet optimized by the JIT). Once it has judged
    /// them all and gone quiet (the JIT's background compiles done), the same events are written to
    /// the served topic again and the job is timed on them, <paramref name="replays"/> times; the last
    /// replay is the warm figure (as a job that runs for hours spends nearly all its time: the first
    /// replay still runs partly in the JIT's instrumented tier, which profiles code before optimizing it).
    /// Each replay adds the served events' size again to every partition; the mock broker drops old
    /// log segments beyond ~5 MiB a partition, which the job has read by then.
    /// </summary>
    private static async Task<JobRates> JobAsync(LocalCluster cluster, IReadOnlyList<ServedEvents.Record> events, int replays)
    {
        var bootstrap = cluster.Broker.BootstrapServers;
        var topic = DriftTopics.For(Mlops.Stream.Kafka.Topics.TopicCatalog.Default, Model).Drift;
        using var offsets = new KafkaOffsets(bootstrap, DriftTopics.ConsumerGroup(Model));
        using var job = NodeProcess.Start([
            "drift", "--model", Model, $"--Kafka:BootstrapServers={bootstrap}", "--Kafka:FetchWait=00:00:00.005",
            $"--Registry:Path={cluster.RegistryPath}", $"--Drift:WindowEvents={WindowEvents}", "--Drift:MetricsUrl=http://127.0.0.1:0",
            "--Logging:LogLevel:Default=Warning", "--Logging:LogLevel:Microsoft.Hosting.Lifetime=Information",
        ]);
        var cold = await TimeWindowsAsync(job, bootstrap, offsets, topic, events.Count / WindowEvents, () => { });
        var warm = cold;
        for (var replay = 1; replay <= replays; replay++)
        {
            await QuietAsync(job);
            warm = await TimeWindowsAsync(job, bootstrap, offsets, topic, events.Count / WindowEvents,
                () => ServedEvents.Write(bootstrap, cluster.Topics.Served, events));
            Console.WriteLine($"drift job, replay {replay}: {warm}");
        }

        return new JobRates(cold, warm);
    }

    /// <summary>
    /// Waits until the job has written <paramref name="expected"/> more windows than when called
    /// (after <paramref name="feed"/> wrote the events they come from, if any); the rate counts the
    /// events of every window after the first, over the time from the first window's record to the
    /// last one's.
    /// </summary>
    private static async Task<JobRate> TimeWindowsAsync(NodeProcess job, string bootstrap, KafkaOffsets offsets, string topic, int expected, Action feed)
    {
        var before = offsets.EndOffsets(topic, 1);
        feed();
        var deadline = DateTime.UtcNow + JobTimeout;
        long[] after;
        // The job's CPU time when its first window is seen and when its last one is: start-up is not in it.
        (long Windows, TimeSpan Cpu)? first = null, last = null;
        while (true)
        {
            after = offsets.EndOffsets(topic, 1);
            var written = after[0] - before[0];
            if (written > 0)
            {
                last = (written, job.CpuTime);
                first ??= last;
            }

            if (written >= expected) break;
            if (DateTime.UtcNow > deadline)
                throw new TimeoutException($"the drift job wrote {written} of {expected} windows within {JobTimeout}:{Environment.NewLine}{job.Tail}");
            await Task.Delay(10);
        }

        var stamps = KafkaOffsets.AllTimestamps(bootstrap, topic, before, after);
        var windows = stamps.Count;
        if (windows < 4) throw new InvalidOperationException($"{windows} windows are too few to time: drain more requests (--requests)");
        var half = windows / 2;
        var cpuEvents = Math.Max(1, last!.Value.Windows - first!.Value.Windows) * WindowEvents;
        return new JobRate(windows, (windows - 1) * WindowEvents, Math.Max(stamps[^1] - stamps[0], 1) / 1000.0,
            (windows - 1 - half) * WindowEvents / (Math.Max(stamps[^1] - stamps[half], 1) / 1000.0),
            (last.Value.Cpu - first.Value.Cpu).TotalMicroseconds / cpuEvents);
    }

    /// <summary>
    /// Waits (at most <see cref="QuietTimeout"/>) until the job used less than 15 % of a core over a
    /// second: its JIT's background compiles are done (an idle job still uses about 8 %: its thread
    /// pool's timers and librdkafka's fetches).
    /// </summary>
    private static async Task QuietAsync(NodeProcess job)
    {
        var deadline = DateTime.UtcNow + QuietTimeout;
        var cpu = job.CpuTime;
        while (DateTime.UtcNow < deadline)
        {
            await Task.Delay(TimeSpan.FromSeconds(1));
            var now = job.CpuTime;
            if (now - cpu < TimeSpan.FromMilliseconds(150)) return;
            cpu = now;
        }
    }

    private sealed record CoreRate(int Windows, double EventsPerSecond, double EvaluationShare);

    /// <summary>
    /// The job's in-memory work over the same served events: read each event, lay out its rows,
    /// fill and close windows, judge every feature. A first pass warms the JIT; the second is timed.
    /// </summary>
    private static CoreRate Core(ModelManifest manifest, IReadOnlyList<ServedEvents.Record> events)
    {
        var reference = VersionReference.FromManifest(manifest);
        (int Windows, double Seconds, double Judging) Pass()
        {
            var windows = new DriftWindows(Model, v => v == reference.Version ? reference : null, new WindowOptions { MaxEvents = WindowEvents });
            var closed = 0;
            var judging = TimeSpan.Zero;
            var clock = Stopwatch.StartNew();
            foreach (var e in events)
            {
                // Only an event that fills its window closes it here (event time spans seconds), so its time is the judging.
                var started = Stopwatch.GetTimestamp();
                var step = windows.Add(e.Value, e.Partition, e.Offset);
                if (step.Failure is { } failure) throw new InvalidOperationException($"a served event the job would skip: {failure.Reason} {failure.Detail}");
                if (step.Closed.Length > 0)
                {
                    closed += step.Closed.Length;
                    judging += Stopwatch.GetElapsedTime(started);
                }
            }

            return (closed, clock.Elapsed.TotalSeconds, judging.TotalSeconds);
        }

        Pass();
        var (windows, seconds, judging) = Pass();
        return new CoreRate(windows, events.Count / seconds, judging / seconds);
    }
}
