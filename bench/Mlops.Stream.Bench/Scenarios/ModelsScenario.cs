using System.Diagnostics;
using Akka.Actor;
using Microsoft.Extensions.Logging.Abstractions;
using Mlops.Stream.Actors.Serving;
using Mlops.Stream.Demo;
using Mlops.Stream.Inference.Caching;
using Mlops.Stream.Inference.Gateway;
using Mlops.Stream.Inference.Onnx;
using Mlops.Stream.Inference.Registry;
using Mlops.Stream.Inference.Wire;
using Mlops.Stream.Kafka.Topics;

namespace Mlops.Stream.Bench.Scenarios;

/// <summary>
/// Many models per node (issue 15): a workload spread uniformly over <c>--models</c> models, and a skewed one
/// (Zipf with exponent <c>--zipf</c>: the k-th most popular model gets 1/k^s of the traffic), each with every
/// model loaded against a memory budget that fits <c>--fits</c> of them, run side by side on the same
/// replicas' inference path (the one HTTP requests take after the gateway). Also: cold-start latency
/// (one request to a model that is not loaded: evict the least recently used, load, warm, answer),
/// and the process memory each loaded model really took, against the cache's estimate.
/// </summary>
public static class ModelsScenario
{
    public const string Usage = "models: --models N --fits N --clients C --seconds S --zipf S --list-models N --list-calls N [--only listing]";

    private sealed record Run(double ThroughputRps, double P50Ms, double P99Ms, long Requests, long Failed, ModelCacheSummary Cache);

    public static async Task<BenchResult> RunAsync(BenchArgs args)
    {
        var models = args.Int("models", 50);
        var fits = args.Int("fits", 10);
        var clients = args.Int("clients", 8);
        var seconds = args.Int("seconds", 10);
        var zipfExponent = double.Parse(args.Text("zipf") ?? "1", System.Globalization.CultureInfo.InvariantCulture);
        var uniform = ModelPicker.Uniform(models);
        var zipf = ModelPicker.Zipf(models, zipfExponent);

        // Listing many models first (alone on the machine's cores, before any replica runs).
        var listing = await ModelListingBench.RunAsync(args.Int("list-models", 500), args.Int("list-calls", 200));
        Console.WriteLine($"listing:     {listing.Models} models, {listing.Calls} list calls: p50 {listing.P50Ms:F2} ms, p99 {listing.P99Ms:F2} ms; " +
                          $"a fresh registry's first call {listing.FirstCallMs:F1} ms");
        if (args.Text("only") == "listing") return AddListing(new BenchResult("models"), listing);

        var registryRoot = Path.Combine(Path.GetTempPath(), "mlops-bench-models-" + Guid.NewGuid().ToString("N"));
        var registry = new FolderModelRegistry(registryRoot);
        var demo = DemoModelBuilder.Build("bench", seed: 7);
        var names = Enumerable.Range(0, models).Select(i => $"bench-{i:000}").ToArray();
        foreach (var name in names)
        {
            await registry.RegisterVersionAsync(demo.Registration with { Model = name });
            await registry.SetAliasAsync(name, ModelAliases.ProductionAlias, new AliasTarget(1));
        }
        var perModel = ModelCache.EstimateBytes(demo.OnnxModel.Length);
        var budget = fits * perModel + perModel / 2;
        Console.WriteLine($"models: {models} models of {demo.OnnxModel.Length:N0} bytes (estimate {perModel:N0} bytes loaded each), " +
                          $"budget {budget:N0} bytes (fits {fits}), {clients} clients, {seconds} s per run, no Kafka");

        using var system = ActorSystem.Create("bench-models", "akka.loglevel = WARNING");
        try
        {
            // Everything loaded (today's behaviour), measuring what loading them cost the process.
            var memoryBefore = WorkingSet();
            var all = await StartAsync(system, "all", registry, names, new ModelCache());
            var perModelMeasured = (WorkingSet() - memoryBefore) / (double)models;
            await WorkloadAsync(all, clients, Math.Min(3, seconds), uniform);   // JIT and ONNX Runtime warm-up, not measured
            var loaded = await WorkloadAsync(all, clients, seconds, uniform);
            Console.WriteLine($"all loaded:  {loaded.ThroughputRps:N0} req/s, p50 {loaded.P50Ms:F2} ms, p99 {loaded.P99Ms:F2} ms, {loaded.Failed} failed");
            var loadedZipf = await WorkloadAsync(all, clients, seconds, zipf);
            Console.WriteLine($"all, zipf:   {loadedZipf.ThroughputRps:N0} req/s, p50 {loadedZipf.P50Ms:F2} ms, p99 {loadedZipf.P99Ms:F2} ms, {loadedZipf.Failed} failed " +
                              $"(the {fits} most popular models take {zipf.ShareOfTop(fits):P0} of requests)");
            await StopAsync(all);

            // A budget for `fits` of them: cold starts one by one, then the same workload.
            var budgeted = await StartAsync(system, "budget", registry, names, new ModelCache(budget));
            var coldStarts = await ColdStartsAsync(budgeted);
            Console.WriteLine($"cold starts: {coldStarts.Length}, p50 {ReplicaBench.Percentile(coldStarts, 0.5):F1} ms, p99 {ReplicaBench.Percentile(coldStarts, 0.99):F1} ms");
            var cached = await WorkloadAsync(budgeted, clients, seconds, uniform);
            Console.WriteLine($"budget {fits}:   {cached.ThroughputRps:N0} req/s, p50 {cached.P50Ms:F2} ms, p99 {cached.P99Ms:F2} ms, {cached.Failed} failed, " +
                              $"{cached.Cache.Loads} loads, {cached.Cache.Evictions} evictions, peak {cached.Cache.PeakReserved} loaded");
            var cachedZipf = await WorkloadAsync(budgeted, clients, seconds, zipf);
            Console.WriteLine($"budget, zipf: {cachedZipf.ThroughputRps:N0} req/s, p50 {cachedZipf.P50Ms:F2} ms, p99 {cachedZipf.P99Ms:F2} ms, {cachedZipf.Failed} failed, " +
                              $"{cachedZipf.Cache.Loads} loads ({cachedZipf.Cache.Loads / (double)Math.Max(1, cachedZipf.Requests):P1} of requests cold), " +
                              $"{cachedZipf.Cache.Evictions} evictions, peak {cachedZipf.Cache.PeakReserved} loaded");
            await StopAsync(budgeted);

            return AddListing(new BenchResult("models"), listing)
                .Add("models", "models", models, "")
                .Add("fits", "models the budget fits", fits, "")
                .Add("cold_start_p50_ms", "cold start (request to an unloaded model), p50", ReplicaBench.Percentile(coldStarts, 0.5), "ms")
                .Add("cold_start_p99_ms", "cold start, p99", ReplicaBench.Percentile(coldStarts, 0.99), "ms")
                .Add("all_loaded_rps", "throughput, all loaded", loaded.ThroughputRps, "requests/s")
                .Add("budget_rps", "throughput, budget for 10", cached.ThroughputRps, "requests/s")
                .Add("throughput_ratio", "throughput budget / all loaded", cached.ThroughputRps / loaded.ThroughputRps, "x")
                .Add("all_loaded_p50_ms", "latency p50, all loaded", loaded.P50Ms, "ms")
                .Add("all_loaded_p99_ms", "latency p99, all loaded", loaded.P99Ms, "ms")
                .Add("budget_p50_ms", "latency p50, budget", cached.P50Ms, "ms")
                .Add("budget_p99_ms", "latency p99, budget", cached.P99Ms, "ms")
                .Add("budget_loads", "loads during the budget workload", cached.Cache.Loads, "")
                .Add("budget_evictions", "evictions during the budget workload", cached.Cache.Evictions, "")
                .Add("peak_loaded", "most models loaded at once, budget run", cached.Cache.PeakReserved, "")
                .Add("zipf_exponent", "Zipf exponent of the skewed workload", zipfExponent, "")
                .Add("zipf_top_share", $"share of requests to the {fits} most popular models, Zipf", zipf.ShareOfTop(fits), "")
                .Add("zipf_all_loaded_rps", "throughput, Zipf, all loaded", loadedZipf.ThroughputRps, "requests/s")
                .Add("zipf_budget_rps", "throughput, Zipf, budget", cachedZipf.ThroughputRps, "requests/s")
                .Add("zipf_throughput_ratio", "throughput budget / all loaded, Zipf", cachedZipf.ThroughputRps / loadedZipf.ThroughputRps, "x")
                .Add("zipf_budget_p50_ms", "latency p50, Zipf, budget", cachedZipf.P50Ms, "ms")
                .Add("zipf_budget_p99_ms", "latency p99, Zipf, budget", cachedZipf.P99Ms, "ms")
                .Add("zipf_cold_share", "requests that loaded their model, Zipf, budget", cachedZipf.Cache.Loads / (double)Math.Max(1, cachedZipf.Requests), "")
                .Add("zipf_peak_loaded", "most models loaded at once, Zipf, budget run", cachedZipf.Cache.PeakReserved, "")
                .Add("failed", "requests not answered 200, all runs", loaded.Failed + cached.Failed + loadedZipf.Failed + cachedZipf.Failed, "")
                .Add("estimate_bytes", "estimated memory per loaded model", perModel, "bytes")
                .Add("measured_bytes", "measured process memory per loaded model", perModelMeasured, "bytes")
                .Note("clients", clients)
                .Note("seconds", seconds);
        }
        finally
        {
            await system.Terminate();
            Directory.Delete(registryRoot, recursive: true);
        }
    }

    private static BenchResult AddListing(BenchResult result, ModelListingBench.Result listing) => result
        .Add("list_models", "models listed", listing.Models, "")
        .Add("list_p50_ms", $"list call, registry reads for {listing.Models} models, p50", listing.P50Ms, "ms")
        .Add("list_p99_ms", "list call, p99", listing.P99Ms, "ms")
        .Add("list_first_call_ms", "list call, first of a fresh registry instance", listing.FirstCallMs, "ms")
        .Note("list_calls", listing.Calls);

    private sealed record Replicas(IReadOnlyList<(string Entity, IActorRef Ref)> All, ModelCache Cache);

    private static async Task<Replicas> StartAsync(ActorSystem system, string run, IModelRegistry registry, string[] names, ModelCache cache)
    {
        var context = new ServingContext(registry, OnnxModelOptions.Default, NullLoggerFactory.Instance, TopicCatalog.Default, Kafka: null, Endpoint: null)
        {
            ModelCache = cache,
        };
        var replicas = names.Select(name =>
        {
            var entity = ReplicaId.For(name);
            var replica = system.ActorOf(ModelReplica.Props(entity, context), $"{run}-{name}");
            replica.Tell(new SetTargets(entity, 1));
            return (entity, replica);
        }).ToList();
        foreach (var (entity, replica) in replicas)
            await ReplicaBench.WaitForAsync(replica, entity, status => status.State == ReplicaState.Ready);
        return new Replicas(replicas, cache);
    }

    private static async Task StopAsync(Replicas replicas)
    {
        await Task.WhenAll(replicas.All.Select(r => r.Ref.GracefulStop(TimeSpan.FromSeconds(30), StopReplica.Instance)));
        // The sessions are freed after the actors stop; wait until the cache says so, so the next run starts empty.
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (replicas.Cache.Summary().Replicas > 0 && DateTime.UtcNow < deadline) await Task.Delay(10);
    }

    /// <summary>One request to each model that is not loaded, in turn: each evicts the least recently used and loads.</summary>
    private static async Task<double[]> ColdStartsAsync(Replicas replicas)
    {
        var times = new List<double>();
        foreach (var (entity, replica) in replicas.All)
        {
            if (replicas.Cache.Entries().Single(e => e.Name == entity).State == "loaded") continue;
            var started = Stopwatch.GetTimestamp();
            var reply = await replica.Ask<InferReply>(new Infer(entity, null, Body($"cold-{entity}")), TimeSpan.FromSeconds(60));
            if (reply is not InferReply.Served) throw new InvalidOperationException($"{entity} answered {reply}");
            times.Add(Stopwatch.GetElapsedTime(started).TotalMilliseconds);
        }
        return [.. times.Order()];
    }

    /// <summary>Closed loop: each client sends to a model <paramref name="picker"/> draws and waits for the answer, for <paramref name="seconds"/>.</summary>
    private static async Task<Run> WorkloadAsync(Replicas replicas, int clients, int seconds, ModelPicker picker)
    {
        var before = replicas.Cache.Summary();
        var latencies = new List<double>[clients];
        var failed = 0L;
        var end = Stopwatch.GetTimestamp() + seconds * Stopwatch.Frequency;
        var start = Stopwatch.GetTimestamp();
        await Task.WhenAll(Enumerable.Range(0, clients).Select(client => Task.Run(async () =>
        {
            var random = new Random(client);
            var own = latencies[client] = [];
            for (var i = 0; Stopwatch.GetTimestamp() < end; i++)
            {
                var (entity, replica) = replicas.All[picker.Next(random)];
                var sent = Stopwatch.GetTimestamp();
                var reply = await replica.Ask<InferReply>(new Infer(entity, null, Body($"{client}-{i}")), TimeSpan.FromSeconds(60));
                own.Add(Stopwatch.GetElapsedTime(sent).TotalMilliseconds);
                if (reply is not InferReply.Served) Interlocked.Increment(ref failed);
            }
        })));
        var elapsed = Stopwatch.GetElapsedTime(start).TotalSeconds;
        var sorted = latencies.SelectMany(l => l).Order().ToArray();
        var after = replicas.Cache.Summary();
        return new Run(sorted.Length / elapsed, ReplicaBench.Percentile(sorted, 0.5), ReplicaBench.Percentile(sorted, 0.99), sorted.Length, failed,
            after with { Loads = after.Loads - before.Loads, Evictions = after.Evictions - before.Evictions });
    }

    private static readonly float[] Features = [.. Enumerable.Range(0, 30).Select(i => i / 30f)];

    private static byte[] Body(string id) => InferenceCodec.EncodeRequest(new InferenceRequest(id, [Tensor.Create("features", Features, 1, 30)]));

    private static long WorkingSet()
    {
        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.Collect();
        using var process = Process.GetCurrentProcess();
        return process.WorkingSet64;
    }
}

/// <summary>
/// Draws which model a request goes to: each model's share of requests as cumulative weights, drawn by
/// binary search. Uniform: every model alike; Zipf: the model at index k (0-based) weighs 1/(k+1)^s.
/// </summary>
internal sealed class ModelPicker
{
    private readonly double[] _cumulative;

    private ModelPicker(IReadOnlyList<double> weights)
    {
        _cumulative = new double[weights.Count];
        var total = weights.Sum();
        var sum = 0.0;
        for (var i = 0; i < weights.Count; i++) _cumulative[i] = (sum += weights[i]) / total;
    }

    public static ModelPicker Uniform(int models) => new([.. Enumerable.Repeat(1.0, models)]);

    public static ModelPicker Zipf(int models, double exponent) => new([.. Enumerable.Range(1, models).Select(k => 1 / Math.Pow(k, exponent))]);

    public int Next(Random random)
    {
        var index = Array.BinarySearch(_cumulative, random.NextDouble());
        return Math.Min(index < 0 ? ~index : index, _cumulative.Length - 1);
    }

    /// <summary>The share of requests the <paramref name="count"/> most drawn models get.</summary>
    public double ShareOfTop(int count) => _cumulative[Math.Clamp(count, 1, _cumulative.Length) - 1];
}
