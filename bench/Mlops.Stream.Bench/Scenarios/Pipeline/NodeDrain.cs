using Mlops.Stream.Actors.Serving;
using Mlops.Stream.Bench.Cluster;
using Mlops.Stream.Kafka.Topics;

namespace Mlops.Stream.Bench.Scenarios.Pipeline;

/// <summary>
/// End-to-end Kafka capacity of one node: with the model undeployed, a backlog was written to its
/// request topic; the model is deployed and its replica drains the backlog (decode, batch, ONNX,
/// prediction and served event acknowledged, commit). Requests per second from the first prediction
/// record's timestamp to the last one's; the run counts only once the serving group's committed
/// offsets reach the backlog's end and every request has its prediction and served event.
/// Allocated bytes and CPU time are the changes of the node's <c>dotnet_gc_allocated_bytes_total</c>
/// and <c>process_cpu_seconds_total</c> from before the deploy to after the commits (a deploy's own
/// cost is measured apart, <see cref="DeployCostAsync"/>, and subtracted by the report).
/// </summary>
public sealed class NodeDrain(LocalCluster cluster, NodeModels models, int partitions)
{
    private static readonly TimeSpan DrainTimeout = TimeSpan.FromMinutes(3);
    public const string AllocatedMetric = "dotnet_gc_allocated_bytes_total";
    private const string CpuMetric = "process_cpu_seconds_total";

    /// <summary>What the node spent (managed bytes allocated, CPU seconds) over a stretch of time.</summary>
    public sealed record NodeCost(double AllocatedBytes, double CpuSeconds)
    {
        public static NodeCost operator -(NodeCost a, NodeCost b) => new(a.AllocatedBytes - b.AllocatedBytes, a.CpuSeconds - b.CpuSeconds);

        /// <summary>The node's counters so far (node 0 of <paramref name="cluster"/>).</summary>
        public static async Task<NodeCost> ReadAsync(LocalCluster cluster) =>
            new(await cluster.MetricAsync(0, AllocatedMetric), await cluster.MetricAsync(0, CpuMetric));
    }

    public sealed record Result(int Requests, double Seconds, int Predictions, long ServedEvents, NodeCost Cost, double MeanBatch)
    {
        public double RequestsPerSecond => Requests / Seconds;
    }

    public async Task<Result> RunAsync(RequestBacklog backlog)
    {
        var bootstrap = cluster.Broker.BootstrapServers;
        var topics = cluster.Topics;
        using var offsets = new KafkaOffsets(bootstrap, ModelTopics.ConsumerGroup(cluster.Model));
        var predictionPartitions = PartitionsOf(topics.Predictions);
        var predictionsBefore = offsets.EndOffsets(topics.Predictions, predictionPartitions);
        var servedBefore = offsets.EndOffsets(topics.Served, PartitionsOf(topics.Served));
        var costBefore = await CostAsync();
        var (rowsBefore, batchesBefore) = await BatchesAsync();

        await models.StartDeployAsync(cluster.Model);
        if (!await offsets.WaitForCommitsAsync(topics.Requests, backlog.Ends, DrainTimeout))
            throw new TimeoutException($"{backlog.Run}: the serving group's commits did not reach the backlog's end within {DrainTimeout}");
        var cost = await CostAsync() - costBefore;
        var (rows, batches) = await BatchesAsync();

        var predictionsAfter = offsets.EndOffsets(topics.Predictions, predictionPartitions);
        var served = offsets.EndOffsets(topics.Served, servedBefore.Length).Sum() - servedBefore.Sum();
        var (predictions, firstMs, lastMs) = KafkaOffsets.Timestamps(bootstrap, topics.Predictions, predictionsBefore, predictionsAfter);
        if (predictions < backlog.Requests || served < backlog.Requests)
            throw new InvalidOperationException($"{backlog.Run}: {backlog.Requests} requests committed but {predictions} predictions and {served} served events written");
        return new Result(backlog.Requests, Math.Max(lastMs - firstMs, 1) / 1000.0, predictions, served, cost,
            (rows - rowsBefore) / Math.Max(1, batches - batchesBefore));
    }

    /// <summary>Rows and model runs of the model so far, from the node's batch size histogram.</summary>
    private async Task<(double Rows, double Batches)> BatchesAsync() =>
        (await cluster.MetricAsync(0, "mlops_batch_size_sum", ("model", cluster.Model)),
         await cluster.MetricAsync(0, "mlops_batch_size_count", ("model", cluster.Model)));

    /// <summary>Writes <paramref name="requests"/> requests while the model serves and waits until they are committed: JIT and first batches land in no figure.</summary>
    public async Task WarmUpAsync(int requests)
    {
        var backlog = RequestBacklog.Produce(cluster.Broker.BootstrapServers, cluster.Topics.Requests, "warm", requests);
        using var offsets = new KafkaOffsets(cluster.Broker.BootstrapServers, ModelTopics.ConsumerGroup(cluster.Model));
        if (!await offsets.WaitForCommitsAsync(cluster.Topics.Requests, backlog.Ends, DrainTimeout))
            throw new TimeoutException($"the warm-up requests were not committed within {DrainTimeout}");
    }

    /// <summary>
    /// What a deploy costs by itself (load, checks, warm-up, stream start) with nothing to drain:
    /// the cost of a drain less this is the requests'.
    /// </summary>
    public async Task<NodeCost> DeployCostAsync()
    {
        var before = await CostAsync();
        await models.DeployAsync(cluster.Model, partitions);
        return await CostAsync() - before;
    }

    private Task<NodeCost> CostAsync() => NodeCost.ReadAsync(cluster);

    /// <summary>Partitions of a model topic as the catalog declares them (the bench creates them so).</summary>
    public static int PartitionsOf(string topic) =>
        TopicCatalog.Default.Identify(topic)?.Family.Partitions ?? throw new InvalidOperationException($"{topic} is not a topic of the catalog");
}
