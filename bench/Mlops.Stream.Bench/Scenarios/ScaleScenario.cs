using System.Collections.Concurrent;
using System.Diagnostics;
using Confluent.Kafka;
using Mlops.Stream.Actors.Serving;
using Mlops.Stream.Bench.Cluster;
using Mlops.Stream.Demo;
using Mlops.Stream.Kafka.Topics;

namespace Mlops.Stream.Bench.Scenarios;

/// <summary>
/// Kafka serving across a real cluster (one embedded broker, three node processes) on ONE machine:
/// <list type="number">
/// <item>Capacity with 1, 2 and 3 replicas: a backlog of requests produced as fast as the bench can,
/// timed from the first produce to the last prediction on the topic, and each node's share of the
/// requests from its <c>mlops_requests_total{source="kafka"}</c> counter. All nodes share the same
/// cores, so more replicas do not mean more speed here: the figures show the shape and the split.</item>
/// <item>Failover: an open-loop producer at a steady rate while one node (not the seed) is killed
/// with SIGKILL; then sent, predicted, lost, duplicates, and per request partition the longest gap
/// between predictions.</item>
/// </list>
/// </summary>
public static class ScaleScenario
{
    private const string Model = DemoModelBuilder.DefaultModelName;
    private const int NodeCount = 3;
    private const string RequestsMetric = "mlops_requests_total";
    private const string DuplicatesMetric = "mlops_kafka_duplicates_total";
    private static readonly TimeSpan ScaleTimeout = TimeSpan.FromMinutes(3);
    private static readonly TimeSpan DrainTimeout = TimeSpan.FromMinutes(5);

    /// <summary>One capacity round: drain time of the backlog and the Kafka requests each node counted.</summary>
    private sealed record CapacityRound(int Replicas, int Requests, double ProduceSeconds, double DrainSeconds, double[] NodeRequests, int[] NodeReplicas, string Placement)
    {
        public double RequestsPerSecond => Requests / DrainSeconds;

        public double Share(int node) => NodeRequests.Sum() is > 0 and var total ? NodeRequests[node] / total : 0;
    }

    /// <summary>One request partition during the failover run.</summary>
    private sealed record PartitionGap(int Partition, int Requests, int Predictions, double LongestGapSeconds, double GapStartAfterKillSeconds, bool OnKilledNode);

    private sealed record FailoverRun(int KilledNode, int[] KilledPartitions, int Sent, int Predicted, int Lost, int Duplicates,
        double DuplicatesCounted, PartitionGap[] Partitions, double? RecoverySeconds);

    public static async Task<BenchResult> RunAsync(BenchArgs args)
    {
        var requests = args.Int("requests", 20_000);
        var warmup = args.Int("warmup", 2_000);
        var rate = args.Int("rate", 300);
        var seconds = args.Int("seconds", 30);
        var killAfter = args.Int("kill-after", 8);
        var partitions = TopicCatalog.Default.DeclareForModel(Model).Single(d => d.Name == ModelTopics.For(TopicCatalog.Default, Model).Requests).Partitions;
        Console.WriteLine($"scale: {NodeCount} node processes + embedded broker on one machine ({Environment.ProcessorCount} cores), model {Model}, {partitions} request partitions");
        Console.WriteLine($"capacity: backlog of {requests:N0} requests per round at 1, 2, 3 replicas; failover: {rate} requests/s for {seconds} s, kill -9 of one node after {killAfter} s");

        // Disposing the cluster kills every node process by id and deletes the registry, whatever happens
        // here; Ctrl+C does the same, so an interrupted run leaves no node behind.
        using var cluster = await LocalCluster.StartAsync(Model, NodeCount);
        ConsoleCancelEventHandler onCancel = (_, _) => cluster.KillNodes();
        Console.CancelKeyPress += onCancel;
        try
        {
            Console.WriteLine($"nodes: {string.Join(", ", cluster.Nodes.Select((n, i) => $"{i} pid {n.Id} {cluster.Http[i].BaseAddress}"))} (node 0 is the seed)");
            using var predictions = new PredictionLog(cluster.Broker.BootstrapServers, cluster.Topics.Predictions);
            using var producer = new ProducerBuilder<string, byte[]>(new ProducerConfig { BootstrapServers = cluster.Broker.BootstrapServers, LingerMs = 5 }).Build();

            // Unmeasured warm-up at the default scale (one replica per node): JIT and first batches land in no round.
            await cluster.WaitForReplicasAsync(NodeCount, partitions, ScaleTimeout);
            await DrainBacklogAsync(producer, predictions, cluster.Topics.Requests, "warm", warmup);

            var rounds = new List<CapacityRound>();
            for (var replicas = 1; replicas <= NodeCount; replicas++)
            {
                rounds.Add(await CapacityRoundAsync(cluster, producer, predictions, replicas, requests, partitions));
                var r = rounds[^1];
                Console.WriteLine($"{replicas} replica(s): {r.RequestsPerSecond:N0} requests/s (backlog produced in {r.ProduceSeconds:F1} s, drained in {r.DrainSeconds:F1} s), " +
                    $"share {string.Join(" / ", Enumerable.Range(0, NodeCount).Select(n => $"node {n} {r.Share(n):P1} ({r.NodeReplicas[n]} replica(s))"))}");
            }

            var failover = await FailoverAsync(cluster, producer, predictions, rate, seconds, killAfter, partitions);
            PrintTables(rounds, failover);
            return Result(rounds, failover, requests, rate, seconds, killAfter);
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

    private static async Task<CapacityRound> CapacityRoundAsync(LocalCluster cluster, IProducer<string, byte[]> producer, PredictionLog predictions,
        int replicas, int requests, int partitions)
    {
        await cluster.ScaleAsync(replicas);
        var placement = await cluster.WaitForReplicasAsync(replicas, partitions, ScaleTimeout);
        var nodeReplicas = Enumerable.Range(0, NodeCount).Select(n => placement.Count(r => cluster.NodeOf(r.Node) == n)).ToArray();

        var before = await KafkaRequestsPerNodeAsync(cluster);
        var (produceSeconds, drainSeconds) = await DrainBacklogAsync(producer, predictions, cluster.Topics.Requests, $"cap-{replicas}", requests);
        // A node counts a request once its prediction is acknowledged: a moment lets the last counts land.
        await Task.Delay(TimeSpan.FromSeconds(1));
        var after = await KafkaRequestsPerNodeAsync(cluster);
        // Where each replica ran and what it consumed: two replicas on one node share that node's counter.
        var where = string.Join(" ", placement.Select(r => $"node{cluster.NodeOf(r.Node)}[{string.Join(",", r.Partitions)}]"));
        return new CapacityRound(replicas, requests, produceSeconds, drainSeconds, [.. after.Zip(before, (a, b) => a - b)], nodeReplicas, where);
    }

    private static async Task<double[]> KafkaRequestsPerNodeAsync(LocalCluster cluster) =>
        await Task.WhenAll(Enumerable.Range(0, NodeCount).Select(n => cluster.MetricAsync(n, RequestsMetric, ("model", Model), ("source", "kafka"))));

    /// <summary>
    /// Produces <paramref name="requests"/> requests as fast as the producer takes them and waits for all
    /// their predictions. The replicas start on the backlog while it is still being produced, so the time
    /// is from the first produce to the last prediction record's timestamp (both this machine's clock),
    /// not a drain of a backlog that was complete before consuming began.
    /// </summary>
    private static async Task<(double ProduceSeconds, double DrainSeconds)> DrainBacklogAsync(
        IProducer<string, byte[]> producer, PredictionLog predictions, string topic, string run, int requests)
    {
        var startMs = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        var failed = 0;
        for (var i = 0; i < requests; i++)
            ProduceWhenRoom(producer, topic, $"{run}-{i}", report => { if (report.Error.IsError) Interlocked.Increment(ref failed); });
        producer.Flush(TimeSpan.FromMinutes(1));
        var produceSeconds = (DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() - startMs) / 1000.0;
        if (failed > 0) throw new InvalidOperationException($"{failed} of {requests} requests of {run} were not delivered to the broker");

        if (!await predictions.WaitForAsync(run, requests, DrainTimeout))
            throw new TimeoutException($"{run}: {predictions.Distinct(run)} of {requests} predictions within {DrainTimeout}");
        // Each request's first prediction counts; a later duplicate does not extend the drain.
        var lastMs = predictions.Records(run).GroupBy(p => p.RequestId).Max(g => g.Min(p => p.TimestampMs));
        return (produceSeconds, (lastMs - startMs) / 1000.0);
    }

    /// <summary>
    /// Kills one node (the last: never the seed) under a steady open-loop load, then accounts for every
    /// request: each request's partition comes from its delivery report, each prediction maps back to
    /// its request by id, so gaps are measured per request partition from the prediction timestamps.
    /// </summary>
    private static async Task<FailoverRun> FailoverAsync(LocalCluster cluster, IProducer<string, byte[]> producer, PredictionLog predictions,
        int rate, int seconds, int killAfter, int partitions)
    {
        const string run = "fail";
        var victim = NodeCount - 1;
        var survivors = Enumerable.Range(0, NodeCount).Where(n => n != victim).ToArray();
        await cluster.WaitForReplicasAsync(NodeCount, partitions, ScaleTimeout);
        var countedBefore = await CountedDuplicatesAsync(cluster, survivors);

        var partitionOf = new ConcurrentDictionary<string, int>();
        var producing = Task.Factory.StartNew(() => ProduceOpenLoop(producer, cluster.Topics.Requests, run, rate, seconds, partitionOf),
            TaskCreationOptions.LongRunning);
        await Task.Delay(TimeSpan.FromSeconds(killAfter));
        // The victim's partitions as the cluster sees them just before the kill (a rebalance may have moved some since the start).
        var killedPartitions = (await cluster.ReplicasAsync()).Where(r => cluster.NodeOf(r.Node) == victim).SelectMany(r => r.Partitions).Order().ToArray();
        var killMs = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        cluster.Nodes[victim].Kill();
        Console.WriteLine($"failover: killed node {victim} (pid {cluster.Nodes[victim].Id}, partitions {string.Join(",", killedPartitions)}) {killAfter} s into the run");
        var sent = await producing;

        // Every sent request answered (or the timeout), then a moment more so late duplicates are counted too.
        var complete = await predictions.WaitForAsync(run, sent, TimeSpan.FromMinutes(2));
        await Task.Delay(TimeSpan.FromSeconds(3));
        if (!complete) Console.WriteLine($"failover: only {predictions.Distinct(run)} of {sent} requests answered within 2 min");
        var counted = await CountedDuplicatesAsync(cluster, survivors) - countedBefore;

        var records = predictions.Records(run);
        var distinct = records.Select(p => p.RequestId).ToHashSet();
        var gaps = Enumerable.Range(0, partitions)
            .Select(p => LongestGap(p, partitionOf, records, killMs, killedPartitions.Contains(p)))
            .ToArray();
        return new FailoverRun(victim, killedPartitions, sent, distinct.Count, partitionOf.Keys.Count(id => !distinct.Contains(id)),
            records.Count - distinct.Count, counted, gaps, RecoverySeconds(killedPartitions, partitionOf, records, killMs));
    }

    private static async Task<double> CountedDuplicatesAsync(LocalCluster cluster, int[] nodes) =>
        (await Task.WhenAll(nodes.Select(n => cluster.MetricAsync(n, DuplicatesMetric, ("model", Model))))).Sum();

    /// <summary>Request i is sent at start + i / rate, whatever the answers do; returns how many were delivered.</summary>
    private static int ProduceOpenLoop(IProducer<string, byte[]> producer, string topic, string run, int rate, int seconds, ConcurrentDictionary<string, int> partitionOf)
    {
        var start = Stopwatch.GetTimestamp();
        var total = (long)rate * seconds;
        var failed = 0;
        for (var i = 0L; i < total; i++)
        {
            var due = start + (long)(i * (double)Stopwatch.Frequency / rate);
            while (Stopwatch.GetTimestamp() < due)
                if (due - Stopwatch.GetTimestamp() > Stopwatch.Frequency / 1000) Thread.Sleep(1); else Thread.SpinWait(50);
            var id = $"{run}-{i}";
            ProduceWhenRoom(producer, topic, id, report =>
            {
                if (report.Error.IsError) Interlocked.Increment(ref failed);
                else partitionOf[id] = report.Partition.Value;
            });
        }
        producer.Flush(TimeSpan.FromMinutes(1));
        if (failed > 0) Console.WriteLine($"failover: {failed} requests were not delivered to the broker (not counted as sent)");
        return partitionOf.Count;
    }

    private static void ProduceWhenRoom(IProducer<string, byte[]> producer, string topic, string id, Action<DeliveryReport<string, byte[]>> delivered) =>
        DemoRequests.ProduceWhenRoom(producer, topic, DemoRequests.Record(id), delivered);

    /// <summary>The longest time between consecutive prediction records (duplicates included) of one partition's requests.</summary>
    private static PartitionGap LongestGap(int partition, ConcurrentDictionary<string, int> partitionOf, IReadOnlyList<Prediction> records, long killMs, bool onKilledNode)
    {
        var times = records.Where(p => partitionOf.TryGetValue(p.RequestId, out var p2) && p2 == partition).Select(p => p.TimestampMs).Order().ToArray();
        var (longest, startMs) = (0L, killMs);
        for (var i = 1; i < times.Length; i++)
            if (times[i] - times[i - 1] > longest) (longest, startMs) = (times[i] - times[i - 1], times[i - 1]);
        return new PartitionGap(partition, partitionOf.Values.Count(p => p == partition), times.Length, longest / 1000.0, (startMs - killMs) / 1000.0, onKilledNode);
    }

    /// <summary>From the kill until every partition the killed node consumed has a prediction again (timestamped after the kill).</summary>
    private static double? RecoverySeconds(int[] killedPartitions, ConcurrentDictionary<string, int> partitionOf, IReadOnlyList<Prediction> records, long killMs)
    {
        if (killedPartitions.Length == 0) return null;
        var firstAfter = killedPartitions.Select(partition => records
            .Where(p => p.TimestampMs > killMs && partitionOf.TryGetValue(p.RequestId, out var p2) && p2 == partition)
            .Select(p => (long?)p.TimestampMs).Min()).ToArray();
        return firstAfter.Any(t => t is null) ? null : (firstAfter.Max()!.Value - killMs) / 1000.0;
    }

    private static void PrintTables(List<CapacityRound> rounds, FailoverRun failover)
    {
        Console.WriteLine();
        Console.WriteLine("capacity (one machine: the replicas share its cores, so this is the shape, not a speed-up)");
        Console.WriteLine($"{"replicas",8}  {"requests/s",10}  {"drain s",7}  {"produce s",9}  " +
            string.Join("  ", Enumerable.Range(0, NodeCount).Select(n => $"{$"node {n} share (replicas)",24}")));
        foreach (var r in rounds)
            Console.WriteLine($"{r.Replicas,8}  {r.RequestsPerSecond,10:N0}  {r.DrainSeconds,7:F1}  {r.ProduceSeconds,9:F1}  " +
                string.Join("  ", Enumerable.Range(0, NodeCount).Select(n => $"{$"{r.Share(n):P1} ({r.NodeReplicas[n]})",24}")) +
                $"  replicas on node[partitions]: {r.Placement}");

        Console.WriteLine();
        Console.WriteLine($"failover: node {failover.KilledNode} killed (partitions {string.Join(",", failover.KilledPartitions)}); gaps between prediction timestamps per request partition");
        Console.WriteLine($"{"partition",9}  {"requests",8}  {"predictions",11}  {"longest gap s",13}  {"gap starts (s after kill)",25}  killed node's");
        foreach (var p in failover.Partitions)
            Console.WriteLine($"{p.Partition,9}  {p.Requests,8}  {p.Predictions,11}  {p.LongestGapSeconds,13:F3}  {p.GapStartAfterKillSeconds,25:F2}  {(p.OnKilledNode ? "yes" : "")}");
        Console.WriteLine($"sent {failover.Sent}, predicted {failover.Predicted}, lost {failover.Lost}, duplicates {failover.Duplicates} " +
            $"(survivors' {DuplicatesMetric}: {failover.DuplicatesCounted}), killed partitions answering again after " +
            (failover.RecoverySeconds is { } s ? $"{s:F2} s" : "never"));
    }

    private static BenchResult Result(List<CapacityRound> rounds, FailoverRun failover, int requests, int rate, int seconds, int killAfter)
    {
        var result = new BenchResult("scale");
        foreach (var r in rounds)
        {
            result.Add($"capacity_rps_r{r.Replicas}", $"capacity, {r.Replicas} replica(s)", r.RequestsPerSecond, "requests/s");
            for (var n = 0; n < NodeCount; n++)
                result.Add($"share_r{r.Replicas}_node{n}", $"  share of node {n} ({r.NodeReplicas[n]} replica(s))", 100 * r.Share(n), "%");
            result.Note($"replicas_per_node_r{r.Replicas}", r.NodeReplicas)
                .Note($"placement_r{r.Replicas}", r.Placement)
                .Note($"counted_requests_r{r.Replicas}", r.NodeRequests.Sum())
                .Note($"produce_s_r{r.Replicas}", Math.Round(r.ProduceSeconds, 3));
        }
        result.Add("failover_sent", "failover: requests sent", failover.Sent, "")
            .Add("failover_predicted", "failover: requests predicted (distinct)", failover.Predicted, "")
            .Add("failover_lost", "failover: lost (sent, no prediction)", failover.Lost, "")
            .Add("failover_duplicates", "failover: duplicate predictions", failover.Duplicates, "")
            .Add("failover_duplicates_counted", "failover: duplicates counted in survivors' /metrics", failover.DuplicatesCounted, "")
            .Add("failover_longest_gap_s", "failover: longest gap, any partition", failover.Partitions.Max(p => p.LongestGapSeconds), "s");
        if (failover.RecoverySeconds is { } recovery)
            result.Add("failover_recovery_s", "failover: kill → killed partitions answering again", recovery, "s");
        else
            result.Note("failover_recovery_s", "none");   // a killed partition never answered again
        foreach (var p in failover.Partitions)
            result.Add($"failover_gap_s_p{p.Partition}", $"  longest gap, partition {p.Partition}{(p.OnKilledNode ? " (killed node's)" : "")}", p.LongestGapSeconds, "s");
        return result
            .Note("failover_killed_node", failover.KilledNode).Note("failover_killed_partitions", failover.KilledPartitions)
            .Note("requests", requests).Note("rate", rate).Note("seconds", seconds).Note("kill_after_s", killAfter)
            .Note("nodes", NodeCount).Note("cores", Environment.ProcessorCount);
    }
}
