using System.Collections.Concurrent;
using System.Diagnostics;
using System.Text;
using Akka.Actor;
using Confluent.Kafka;
using Microsoft.Extensions.Logging.Abstractions;
using Mlops.Stream.Actors.Serving;
using Mlops.Stream.Demo;
using Mlops.Stream.Inference.Gateway;
using Mlops.Stream.Inference.Onnx;
using Mlops.Stream.Inference.Registry;
using Mlops.Stream.Inference.Wire;
using Mlops.Stream.Kafka;
using Mlops.Stream.Kafka.Connection;
using Mlops.Stream.Kafka.Topics;

namespace Mlops.Stream.Bench.Scenarios;

/// <summary>
/// The end-to-end Kafka path (request topic → model replica → batcher → ONNX → prediction topic)
/// at a fixed offered load from an open-loop producer, run twice side by side: with no swaps, and
/// with the production version changed every few seconds. Latency is send time → prediction
/// read back, so a stall during a swap shows in the tail. Swap time is from the new target to the
/// replica reporting it serves.
/// </summary>
public static class SwapScenario
{
    /// <summary>
    /// The embedded broker answers a fetch only when fetch.wait.max.ms runs out, even when records
    /// arrive meanwhile (a real broker answers at once), so consumers here ask with a short wait.
    /// </summary>
    private static readonly Dictionary<string, string> EmbeddedFetch = new() { ["fetch.wait.max.ms"] = "5" };

    private sealed record RunResult(double ThroughputRps, double P50Ms, double P99Ms, long Sent, long Received, IReadOnlyList<double> SwapTimesMs, double SwapWindowP99Ms);

    public static async Task<BenchResult> RunAsync(BenchArgs args)
    {
        var rate = args.Int("rate", 1_000);
        var seconds = args.Int("seconds", 15);
        var swapEverySeconds = args.Int("swap-every", 3);

        var registryRoot = Path.Combine(Path.GetTempPath(), "mlops-bench-swap-" + Guid.NewGuid().ToString("N"));
        var registry = new FolderModelRegistry(registryRoot);
        var versions = new[] { 1, 2, 3 }.Select(seed => DemoModelBuilder.Build("bench", seed)).ToArray();
        foreach (var model in new[] { "bench-warmup", "bench-steady", "bench-swapping" })
        {
            foreach (var demo in versions)
                await registry.RegisterVersionAsync(new ModelRegistration(model, demo.OnnxModel) { SampleRequest = demo.SampleRequest });
            await registry.SetAliasAsync(model, ModelAliases.ProductionAlias, new AliasTarget(1));
        }

        using var kafka = KafkaEndpoint.StartEmbedded();
        using var system = ActorSystem.Create("bench-swap", "akka.loglevel = WARNING");
        var context = new ServingContext(registry, OnnxModelOptions.Default, NullLoggerFactory.Instance, TopicCatalog.Default,
            new ServingKafkaSettings(kafka.BootstrapServers, new KafkaHealthMonitor(), EmbeddedFetch, new Dictionary<string, string>(), InFlight: 256),
            kafka);
        Console.WriteLine($"swap: {rate} requests/s for {seconds} s per run, a swap every {swapEverySeconds} s in the second run, embedded broker");

        // A short unmeasured run first, so JIT and ONNX Runtime warm-up land in neither measured run.
        await RunOnce(system, context, "bench-warmup", rate, Math.Min(3, seconds), swapEvery: null);
        var steady = await RunOnce(system, context, "bench-steady", rate, seconds, swapEvery: null);
        Console.WriteLine($"no swaps:   {steady.ThroughputRps:N0} req/s, p50 {steady.P50Ms:F1} ms, p99 {steady.P99Ms:F1} ms, {steady.Received}/{steady.Sent} answered");
        var swapping = await RunOnce(system, context, "bench-swapping", rate, seconds, TimeSpan.FromSeconds(swapEverySeconds));
        Console.WriteLine($"with swaps: {swapping.ThroughputRps:N0} req/s, p50 {swapping.P50Ms:F1} ms, p99 {swapping.P99Ms:F1} ms, {swapping.Received}/{swapping.Sent} answered, {swapping.SwapTimesMs.Count} swaps");

        var swapTimes = swapping.SwapTimesMs.Order().ToArray();
        return new BenchResult("swap")
            .Add("offered_rps", "offered load", rate, "requests/s")
            .Add("baseline_rps", "throughput, no swaps", steady.ThroughputRps, "requests/s")
            .Add("swap_rps", "throughput, swapping", swapping.ThroughputRps, "requests/s")
            .Add("throughput_ratio", "throughput swapping / no swaps (goal >= 0.9)", swapping.ThroughputRps / steady.ThroughputRps, "x")
            .Add("baseline_p99_ms", "p99 latency, no swaps", steady.P99Ms, "ms")
            .Add("swap_p99_ms", "p99 latency, swapping", swapping.P99Ms, "ms")
            .Add("p99_ratio", "p99 swapping / no swaps", swapping.P99Ms / steady.P99Ms, "x")
            .Add("swap_window_p99_ms", "p99 latency of requests sent during swap windows", swapping.SwapWindowP99Ms, "ms")
            .Add("swap_window_p99_ratio", "swap-window p99 / no-swap p99 (goal <= 2)", swapping.SwapWindowP99Ms / steady.P99Ms, "x")
            .Add("swaps", "swaps during the run", swapTimes.Length, "")
            .Add("swap_time_median_ms", "swap time (target → serving), median", swapTimes.Length == 0 ? 0 : swapTimes[swapTimes.Length / 2], "ms")
            .Add("swap_time_max_ms", "swap time, max", swapTimes.Length == 0 ? 0 : swapTimes[^1], "ms")
            .Add("lost", "requests without a prediction", steady.Sent - steady.Received + swapping.Sent - swapping.Received, "")
            .Note("seconds", seconds);
    }

    private static async Task<RunResult> RunOnce(ActorSystem system, ServingContext context, string model, int rate, int seconds, TimeSpan? swapEvery)
    {
        var entity = ReplicaId.For(model);
        var replica = system.ActorOf(ModelReplica.Props(entity, context), model);
        await ReplicaBench.WaitForAsync(replica, entity, s => s.State == ReplicaState.Ready);
        var topics = ModelTopics.For(TopicCatalog.Default, model);
        var bootstrap = context.Kafka!.BootstrapServers;

        // Reader: latency from the send timestamp carried in the request id.
        var latencies = new ConcurrentBag<(long SentAt, double Ms)>();
        var received = 0L;
        var lastReceived = 0L;
        using var stopReading = new CancellationTokenSource();
        var reader = Task.Factory.StartNew(() =>
        {
            using var consumer = new ConsumerBuilder<string, byte[]>(new ConsumerConfig
            {
                BootstrapServers = bootstrap, GroupId = $"bench-reader-{model}", AutoOffsetReset = AutoOffsetReset.Earliest, EnableAutoCommit = false,
                FetchWaitMaxMs = 5,
            }).Build();
            consumer.Subscribe(topics.Predictions);
            while (!stopReading.IsCancellationRequested)
            {
                if (consumer.Consume(TimeSpan.FromMilliseconds(100)) is not { Message: { } message }) continue;
                var id = ServingHeaders.Read(message.Headers, ServingHeaders.RequestId)!;
                var sentAt = long.Parse(id[(id.IndexOf('@') + 1)..]);
                latencies.Add((sentAt, Stopwatch.GetElapsedTime(sentAt).TotalMilliseconds));
                Interlocked.Increment(ref received);
                Interlocked.Exchange(ref lastReceived, Stopwatch.GetTimestamp());
            }
            consumer.Close();
        }, TaskCreationOptions.LongRunning);

        // Swapper: 1 → 2 → 3 → 1 … every swapEvery, timing each swap.
        var swapTimes = new List<double>();
        var swapWindows = new List<(long From, long To)>();
        using var stopSwapping = new CancellationTokenSource();
        var swapper = swapEvery is not { } every ? Task.CompletedTask : Task.Run(async () =>
        {
            var version = 1;
            try
            {
                while (true)
                {
                    await Task.Delay(every, stopSwapping.Token);
                    version = version % 3 + 1;
                    var started = Stopwatch.GetTimestamp();
                    replica.Tell(new SetTargets(entity, version));
                    await ReplicaBench.WaitForAsync(replica, entity, s => s.ServingVersion == version && s.SwappingTo is null);
                    swapTimes.Add(Stopwatch.GetElapsedTime(started).TotalMilliseconds);
                    // The swap window: from the new target until one second after it serves.
                    swapWindows.Add((started, Stopwatch.GetTimestamp() + Stopwatch.Frequency));
                }
            }
            catch (OperationCanceledException) { }
        });

        // Open-loop producer: request i is sent at start + i / rate, whatever the answers do.
        var features = Enumerable.Range(0, 30).Select(i => (float)(i % 7) / 7).ToArray();
        using var producer = new ProducerBuilder<string, byte[]>(new ProducerConfig { BootstrapServers = bootstrap, LingerMs = 2 }).Build();
        var start = Stopwatch.GetTimestamp();
        var total = (long)rate * seconds;
        for (var i = 0L; i < total; i++)
        {
            var due = start + (long)(i * (double)Stopwatch.Frequency / rate);
            while (Stopwatch.GetTimestamp() < due)
                if (due - Stopwatch.GetTimestamp() > Stopwatch.Frequency / 1000) Thread.Sleep(1); else Thread.SpinWait(50);
            var id = $"{i}@{Stopwatch.GetTimestamp()}";
            var body = InferenceCodec.EncodeRequest(new InferenceRequest(id, [Tensor.Create("features", features, 1, 30)]));
            producer.Produce(topics.Requests, new Message<string, byte[]>
            {
                Key = id, Value = body, Headers = new Headers { { ServingHeaders.RequestId, Encoding.UTF8.GetBytes(id) } },
            });
        }
        producer.Flush(TimeSpan.FromSeconds(30));
        await stopSwapping.CancelAsync();
        await swapper;

        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        while (Interlocked.Read(ref received) < total && DateTime.UtcNow < deadline) await Task.Delay(50);
        await stopReading.CancelAsync();
        await reader;
        await replica.GracefulStop(TimeSpan.FromSeconds(30), StopReplica.Instance);

        var sorted = latencies.Select(l => l.Ms).Order().ToArray();
        var inWindows = latencies.Where(l => swapWindows.Any(w => l.SentAt >= w.From && l.SentAt <= w.To)).Select(l => l.Ms).Order().ToArray();
        var elapsed = Stopwatch.GetElapsedTime(start, Interlocked.Read(ref lastReceived)).TotalSeconds;
        return new RunResult(received / elapsed, ReplicaBench.Percentile(sorted, 0.50), ReplicaBench.Percentile(sorted, 0.99), total, received, swapTimes, ReplicaBench.Percentile(inWindows, 0.99));
    }
}
