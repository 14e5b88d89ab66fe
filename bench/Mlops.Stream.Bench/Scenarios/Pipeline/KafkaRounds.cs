using Mlops.Stream.Actors.Serving;
using Mlops.Stream.Bench.Cluster;
using Mlops.Stream.Kafka.Topics;

namespace Mlops.Stream.Bench.Scenarios.Pipeline;

/// <summary>
/// The Kafka side by side: each round writes a fresh backlog while the model is undeployed, then
/// the node drains it and the transport loop copies it (in alternating order from round to round,
/// so neither always runs on a warmer or quieter machine), then the naive loop works through it.
/// The same requests as protobuf records (<see cref="RecordEncoding.Protobuf"/>) make a backlog of
/// their own that the node drains before the JSON one in rounds 1, 3, 5, ... and after it in the others.
/// The loops write topics of their own with the node's output partitions.
/// </summary>
public sealed class KafkaRounds(LocalCluster cluster, NodeModels models, NodeDrain drain, RawModel onnx, PipelineSettings settings)
{
    public sealed record Round(int Index, RequestBacklog Backlog, NodeDrain.Result EndToEnd, double TransportPerSecond, double NaivePerSecond, int NaiveRequests,
        int PredictionBytes, int ServedBytes, RequestBacklog BinaryBacklog, NodeDrain.Result BinaryEndToEnd);

    public async Task<IReadOnlyList<Round>> RunAsync()
    {
        var bootstrap = cluster.Broker.BootstrapServers;
        var predictionPartitions = NodeDrain.PartitionsOf(cluster.Topics.Predictions);
        var servedPartitions = NodeDrain.PartitionsOf(cluster.Topics.Served);
        foreach (var loop in new[] { "transport", "naive" })
        {
            cluster.Broker.CreateTopics([
                TopicDeclaration.WithPartitions($"bench-{loop}-predictions", predictionPartitions),
                TopicDeclaration.WithPartitions($"bench-{loop}-served", servedPartitions)]);
        }
        var answers = new NodeAnswers(cluster.Model);
        var rounds = new List<Round>();
        for (var index = 0; index < settings.Rounds; index++)
        {
            var binaryFirst = index % 2 == 0;
            (RequestBacklog Backlog, NodeDrain.Result EndToEnd)? binary = binaryFirst ? await DrainFreshAsync($"round{index}-binary", RecordEncoding.Protobuf) : null;
            await models.UndeployAsync(cluster.Model);
            var backlog = RequestBacklog.Produce(bootstrap, cluster.Topics.Requests, $"round{index}", settings.Requests);
            var typical = answers.Typical(onnx, backlog);
            NodeDrain.Result? endToEnd = null;
            var transport = 0.0;
            for (var turn = 0; turn < 2; turn++)
            {
                if ((turn == 0) == (index % 2 == 0))
                    endToEnd = await drain.RunAsync(backlog);
                else
                    transport = TransportLoop.Run(bootstrap, backlog, typical, "bench-transport-predictions", "bench-transport-served", $"bench-transport-{index}");
            }
            var (binaryBacklog, binaryEndToEnd) = binary ?? await DrainFreshAsync($"round{index}-binary", RecordEncoding.Protobuf);
            var (naive, naiveRequests) = NaiveLoop.Run(bootstrap, backlog, onnx, answers, "bench-naive-predictions", "bench-naive-served",
                TimeSpan.FromSeconds(settings.NaiveSeconds));
            rounds.Add(new Round(index, backlog, endToEnd!, transport, naive, naiveRequests, typical.Prediction.Length, typical.Served.Length,
                binaryBacklog, binaryEndToEnd));
            Console.WriteLine($"kafka round {index + 1}: end to end {endToEnd!.RequestsPerSecond:N0}/s ({backlog.Requests:N0} in {endToEnd.Seconds:F2} s), " +
                $"binary (protobuf) {binaryEndToEnd.RequestsPerSecond:N0}/s, " +
                $"transport loop {transport:N0}/s, naive loop {naive:N0}/s ({naiveRequests:N0} requests); largest partition backlog {backlog.LargestPartition:N0} records, {backlog.LargestPartitionBytes / 1024:N0} KiB");
        }
        return rounds;
    }

    /// <summary>A fresh backlog in <paramref name="encoding"/>, written while the model is undeployed, then drained by the node.</summary>
    private async Task<(RequestBacklog Backlog, NodeDrain.Result EndToEnd)> DrainFreshAsync(string run, RecordEncoding encoding)
    {
        await models.UndeployAsync(cluster.Model);
        var backlog = RequestBacklog.Produce(cluster.Broker.BootstrapServers, cluster.Topics.Requests, run, settings.Requests, encoding);
        return (backlog, await drain.RunAsync(backlog));
    }
}
