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
/// Allocated bytes and CPU time are the node's, over that same first-to-last-prediction stretch
/// (<see cref="NodeCostTimeline"/>), so the deploy's model load and warm-up are not in them.
/// </summary>
public sealed class NodeDrain(LocalCluster cluster, NodeModels models)
{
    private static readonly TimeSpan DrainTimeout = TimeSpan.FromMinutes(3);

    /// <param name="Cost">What the node spent from the reading before the first prediction to the one after the last.</param>
    /// <param name="CostSeconds">The time between those two readings (a little more than <paramref name="Seconds"/>).</param>
    public sealed record Result(int Requests, double Seconds, int Predictions, long ServedEvents, NodeCost Cost, double CostSeconds, double MeanBatch)
    {
        public double RequestsPerSecond => Requests / Seconds;

        /// <summary>Node CPU seconds per second of the drain: how many of the machine's cores the node kept busy.</summary>
        public double CoresBusy => Cost.CpuSeconds / CostSeconds;
    }

    public async Task<Result> RunAsync(RequestBacklog backlog)
    {
        var bootstrap = cluster.Broker.BootstrapServers;
        var topics = cluster.Topics;
        using var offsets = new KafkaOffsets(bootstrap, ModelTopics.ConsumerGroup(cluster.Model));
        var predictionPartitions = PartitionsOf(topics.Predictions);
        var predictionsBefore = offsets.EndOffsets(topics.Predictions, predictionPartitions);
        var servedBefore = offsets.EndOffsets(topics.Served, PartitionsOf(topics.Served));
        var (rowsBefore, batchesBefore) = await BatchesAsync();

        await using var timeline = new NodeCostTimeline(cluster);
        await models.StartDeployAsync(cluster.Model);
        if (!await offsets.WaitForCommitsAsync(topics.Requests, backlog.Ends, DrainTimeout))
            throw new TimeoutException($"{backlog.Run}: the serving group's commits did not reach the backlog's end within {DrainTimeout}");
        var (rows, batches) = await BatchesAsync();

        var predictionsAfter = offsets.EndOffsets(topics.Predictions, predictionPartitions);
        var served = offsets.EndOffsets(topics.Served, servedBefore.Length).Sum() - servedBefore.Sum();
        var (predictions, firstMs, lastMs) = KafkaOffsets.Timestamps(bootstrap, topics.Predictions, predictionsBefore, predictionsAfter);
        if (predictions < backlog.Requests || served < backlog.Requests)
            throw new InvalidOperationException($"{backlog.Run}: {backlog.Requests} requests committed but {predictions} predictions and {served} served events written");
        var (cost, costSeconds) = await timeline.BetweenAsync(firstMs, lastMs);
        return new Result(backlog.Requests, Math.Max(lastMs - firstMs, 1) / 1000.0, predictions, served, cost, costSeconds,
            (rows - rowsBefore) / Math.Max(1, batches - batchesBefore));
    }

    /// <summary>Rows and model runs of the model so far, from the node's batch size histogram.</summary>
    private async Task<(double Rows, double Batches)> BatchesAsync() =>
        (await cluster.MetricAsync(0, "mlops_batch_size_sum", ("model", cluster.Model)),
         await cluster.MetricAsync(0, "mlops_batch_size_count", ("model", cluster.Model)));

    /// <summary>Writes <paramref name="requests"/> requests while the model serves and waits until they are committed: JIT and first batches land in no figure.</summary>
    public async Task WarmUpAsync(int requests, RecordEncoding encoding = RecordEncoding.Json)
    {
        var backlog = RequestBacklog.Produce(cluster.Broker.BootstrapServers, cluster.Topics.Requests, $"warm-{encoding}", requests, encoding);
        using var offsets = new KafkaOffsets(cluster.Broker.BootstrapServers, ModelTopics.ConsumerGroup(cluster.Model));
        if (!await offsets.WaitForCommitsAsync(cluster.Topics.Requests, backlog.Ends, DrainTimeout))
            throw new TimeoutException($"the warm-up requests were not committed within {DrainTimeout}");
    }

    /// <summary>Partitions of a model topic as the catalog declares them (the bench creates them so).</summary>
    public static int PartitionsOf(string topic) =>
        TopicCatalog.Default.Identify(topic)?.Family.Partitions ?? throw new InvalidOperationException($"{topic} is not a topic of the catalog");
}
