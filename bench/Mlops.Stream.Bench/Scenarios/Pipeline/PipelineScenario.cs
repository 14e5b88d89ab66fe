using Mlops.Stream.Bench.Cluster;
using Mlops.Stream.Demo;
using Mlops.Stream.Inference.Registry;

namespace Mlops.Stream.Bench.Scenarios.Pipeline;

/// <summary>
/// Issue 12's pipeline bench, all in one run on one node process of the published host (a cluster
/// of one) and an embedded broker in the bench: the node's Kafka capacity against the transport and
/// model ceilings and the naive loop; HTTP batched against batching off and against the old 5 ms
/// wait at equal concurrency; open-loop latency at 50 % and 80 % of capacity on both paths; bytes
/// allocated per request. Every figure is measured here; goals are reported, never asserted.
/// </summary>
public static class PipelineScenario
{
    private const string Model = DemoModelBuilder.DefaultModelName;
    private static readonly double[] OpenLoopFractions = [0.5, 0.8];

    public static async Task<BenchResult> RunAsync(BenchArgs args)
    {
        var settings = PipelineSettings.From(args);
        // Disposing the cluster kills the node process by id and deletes the registry, whatever happens
        // here; Ctrl+C does the same, so an interrupted run leaves no node behind.
        using var cluster = await LocalCluster.StartAsync(Model, nodes: 1, settings.Partitions,
            settings.Device is { } device ? [$"--Inference:Device={device}"] : []);
        ConsoleCancelEventHandler onCancel = (_, _) => cluster.KillNodes();
        Console.CancelKeyPress += onCancel;
        try
        {
            return settings.Only switch
            {
                null => await MeasureAsync(cluster, settings),
                "tuning" or "heavy" => await MeasureOnlyAsync(cluster, settings),
                var other => throw new ArgumentException($"pipeline: --only takes tuning or heavy, not '{other}'"),
            };
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

    private static async Task<BenchResult> MeasureAsync(LocalCluster cluster, PipelineSettings settings)
    {
        var partitions = settings.Partitions ?? NodeDrain.PartitionsOf(cluster.Topics.Requests);
        Console.WriteLine($"pipeline: one node process (pid {cluster.Nodes[0].Id}, {cluster.Http[0].BaseAddress}) and the embedded broker " +
            $"{cluster.Broker.BootstrapServers} on {Environment.ProcessorCount} cores; model {Model}, {partitions} request partitions, " +
            $"{settings.Requests:N0} requests per Kafka round, {settings.Rounds} rounds, device {settings.Device ?? "as the node chooses (auto)"}");
        var loadAtStart = LoadAverage();
        var models = new NodeModels(cluster);
        var drain = new NodeDrain(cluster, models);
        await models.WaitServingAsync(Model, partitions);

        var onnx = await File.ReadAllBytesAsync(Path.Combine(cluster.RegistryPath, Model, "1", FolderModelRegistry.ModelFileName));
        using var raw = new RawModel(onnx, cuda: settings.Device == "cuda");
        var ceiling = ModelCeiling.Measure(raw, settings.BatchSizes);
        Console.WriteLine("model ceiling: " + string.Join(", ", ceiling.RowsPerSecond.Select(r => $"batch {r.Key} {r.Value:N0} rows/s")));

        // Unmeasured: the node's JIT and first batches, on a backlog drained as it is written.
        await drain.WarmUpAsync(Math.Min(settings.Requests, 10_000));
        await drain.WarmUpAsync(Math.Min(settings.Requests, 10_000), Mlops.Stream.Actors.Serving.RecordEncoding.Protobuf);
        var rounds = await new KafkaRounds(cluster, models, drain, raw, settings).RunAsync();
        var capacity = HttpComparison.Median(rounds.Select(r => r.EndToEnd.RequestsPerSecond));

        // Unmeasured first, so the open-loop clients' own start-up (connections, thread pool growth) lands in no figure.
        await KafkaOpenLoop.RunAsync(cluster, "openwarm", OpenLoopFractions[0], OpenLoopFractions[0] * capacity, TimeSpan.FromSeconds(1));
        var kafkaOpen = new List<OpenLoopResult>();
        foreach (var fraction in OpenLoopFractions)
        {
            kafkaOpen.Add(await KafkaOpenLoop.RunAsync(cluster, $"open{fraction * 100:F0}", fraction, fraction * capacity, TimeSpan.FromSeconds(settings.OpenLoopSeconds)));
            PrintOpenLoop(kafkaOpen[^1]);
        }

        var twins = BatchingTwins.For(Model);
        await RegisterAsync(cluster, models, twins);
        // Closed loops: a connection per client. Open loops: a pool of 64, as a service calling another keeps,
        // so a stall queues calls in the pool (counted from their intended start) instead of piling connections on the node.
        using var client = new InferClient(cluster.Http[0].BaseAddress!, connections: Math.Max(64, settings.Clients.Max()));
        using var openClient = new InferClient(cluster.Http[0].BaseAddress!, connections: 64);
        var http = await HttpComparison.RunAsync(client, twins, settings.Clients, settings.Rounds, TimeSpan.FromSeconds(settings.HttpSeconds));
        var httpCost = await HttpCostAsync(cluster, client, twins[0], settings);
        var httpCapacity = http.Where(c => c.Twin == twins[0]).Max(c => c.RequestsPerSecond);
        await HttpOpenLoop.RunAsync(openClient, Model, OpenLoopFractions[0], OpenLoopFractions[0] * httpCapacity, TimeSpan.FromSeconds(1));
        var httpOpen = new List<OpenLoopResult>();
        foreach (var fraction in OpenLoopFractions)
        {
            httpOpen.Add(await HttpOpenLoop.RunAsync(openClient, Model, fraction, fraction * httpCapacity, TimeSpan.FromSeconds(settings.OpenLoopSeconds)));
            PrintOpenLoop(httpOpen[^1]);
        }

        var tuning = await TuneAsync(cluster, models, client, settings);
        var heavy = await HeavyAsync(cluster, models, client, settings);
        var result = new PipelineReport(settings, partitions, ceiling, rounds, kafkaOpen, twins, http, httpCost, httpOpen).Build();
        tuning.Print();
        tuning.AddTo(result);
        heavy.Print();
        heavy.AddTo(result);
        return result.Note("latency_objective_ms", settings.ObjectiveMs)
            .Note("load_average_start", loadAtStart).Note("load_average_end", LoadAverage());
    }

    /// <summary>
    /// One comparison alone (<c>--only tuning</c>: the latency objective against fixed sizes and two
    /// instances against one; <c>--only heavy</c>: batching on a model whose run dominates), without
    /// the Kafka rounds and the rest of the HTTP runs.
    /// </summary>
    private static async Task<BenchResult> MeasureOnlyAsync(LocalCluster cluster, PipelineSettings settings)
    {
        var loadAtStart = LoadAverage();
        var models = new NodeModels(cluster);
        await models.WaitServingAsync(Model, NodeDrain.PartitionsOf(cluster.Topics.Requests));
        using var client = new InferClient(cluster.Http[0].BaseAddress!, connections: Math.Max(64, settings.TuningClients.Concat(settings.HeavyClients).Max()));
        var result = new BenchResult("pipeline");
        if (settings.Only == "tuning")
        {
            var tuning = await TuneAsync(cluster, models, client, settings);
            tuning.Print();
            tuning.AddTo(result);
        }
        else
        {
            var heavy = await HeavyAsync(cluster, models, client, settings);
            heavy.Print();
            heavy.AddTo(result);
        }
        return result.Note("only", settings.Only!).Note("rounds", settings.Rounds).Note("http_seconds", settings.HttpSeconds)
            .Note("latency_objective_ms", settings.ObjectiveMs).Note("cores", Environment.ProcessorCount)
            .Note("load_average_start", loadAtStart).Note("load_average_end", LoadAverage());
    }

    private static async Task<HeavyComparison> HeavyAsync(LocalCluster cluster, NodeModels models, InferClient client, PipelineSettings settings)
    {
        var heavy = HeavyModel.Build($"{Model}-heavy", await models.ReadOnnxAsync(Model), settings);
        Console.WriteLine(heavy.Describe());
        var twins = BatchingTwins.Heavy(heavy.Name);
        foreach (var twin in twins)
        {
            cluster.Broker.CreateTopics(Mlops.Stream.Kafka.Topics.TopicCatalog.Default.DeclareForModel(twin.Model));
            await models.RegisterAsync(twin.Model, heavy.Onnx, twin.Batching!, "the demo network with dense layers added, for the pipeline bench",
                NodeDrain.PartitionsOf(cluster.Topics.Requests));
        }
        return new HeavyComparison(heavy, await HttpComparison.RunAsync(client, twins, settings.HeavyClients, settings.Rounds, TimeSpan.FromSeconds(settings.HttpSeconds)));
    }

    private static async Task<BatchTuning> TuneAsync(LocalCluster cluster, NodeModels models, InferClient client, PipelineSettings settings)
    {
        var twins = BatchingTwins.Tuning(Model, settings.ObjectiveMs);
        await RegisterAsync(cluster, models, twins);
        return new BatchTuning(await HttpComparison.RunAsync(client, twins, settings.TuningClients, settings.Rounds, TimeSpan.FromSeconds(settings.HttpSeconds)));
    }

    /// <summary>Registers and serves every twin with batching of its own that the node does not serve yet.</summary>
    private static async Task RegisterAsync(LocalCluster cluster, NodeModels models, IEnumerable<BatchingTwin> twins)
    {
        foreach (var twin in twins.Where(t => t.Batching is not null))
        {
            if (await models.ExistsAsync(twin.Model)) continue;
            cluster.Broker.CreateTopics(Mlops.Stream.Kafka.Topics.TopicCatalog.Default.DeclareForModel(twin.Model));
            await models.RegisterTwinAsync(Model, twin.Model, twin.Batching!, NodeDrain.PartitionsOf(cluster.Topics.Requests));
        }
    }

    /// <summary>The machine's 1-minute load average (Linux), to judge how much other work shared the cores; empty elsewhere.</summary>
    internal static string LoadAverage() =>
        File.Exists("/proc/loadavg") ? File.ReadAllText("/proc/loadavg").Split(' ')[0] : "";

    /// <summary>What the node spends per HTTP request (bytes allocated, CPU seconds): its counters around a closed-loop run at 64 clients (or the most asked for).</summary>
    private static async Task<NodeCost> HttpCostAsync(LocalCluster cluster, InferClient client, BatchingTwin twin, PipelineSettings settings)
    {
        var clients = settings.Clients.Contains(64) ? 64 : settings.Clients.Max();
        var before = await NodeCost.ReadAsync(cluster);
        var run = await HttpClosedLoop.RunAsync(client, twin.Model, clients, TimeSpan.FromSeconds(settings.HttpSeconds));
        return (await NodeCost.ReadAsync(cluster) - before).PerRequest(Math.Max(1, run.Ok + run.Refused + run.Failed));
    }

    private static void PrintOpenLoop(OpenLoopResult r) =>
        Console.WriteLine($"open loop {r.Label}: {r.Answered:N0} of {r.Sent:N0} answered, p50 {r.Latency.P50:F2} ms, p99 {r.Latency.P99:F2} ms, p99.9 {r.Latency.P999:F2} ms" +
            (r.SendSeconds > r.Sent / r.OfferedPerSecond * 1.05 ? $" (the sender itself fell behind: {r.SendSeconds:F1} s to send)" : ""));
}
