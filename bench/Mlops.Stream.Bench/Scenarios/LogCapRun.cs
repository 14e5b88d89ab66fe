using Confluent.Kafka;
using Mlops.Stream.Actors.Serving;
using Mlops.Stream.Bench.Cluster;
using Mlops.Stream.Faults;
using Mlops.Stream.Inference.Batching;
using Mlops.Stream.Inference.Registry;
using Mlops.Stream.Inference.Wire;
using Mlops.Stream.Kafka.Topics;

namespace Mlops.Stream.Bench.Scenarios;

/// <summary>
/// Issue 14, scenario 12: the embedded broker's log cap. Two backlogs are written to the model's
/// request topic before the node starts, sized by the largest record a request leads to (its served
/// event, which carries the inputs and outputs): one at half the cap per partition and one at 2.5
/// times it. The cap check (<see cref="BrokerLogCap.Refusal"/>, as the <c>overload</c> bench uses
/// it) passes the first and refuses the second, which is written anyway to show what the broker does.
/// The node then drains each backlog and the delivery checker reads the topics: under the cap
/// everything is predicted and nothing dropped; over it, the checker reports what the broker dropped
/// from the start of each topic (requests nobody could read) instead of counting them as lost.
/// </summary>
public static class LogCapRun
{
    public const string Name = "log-cap";

    private const int ServedHeaderBytes = 100;
    private static readonly double[] CapShares = [0.5, 2.5];
    private static readonly TimeSpan Settle = TimeSpan.FromMinutes(5);

    public sealed record Outcome(double CapShare, long Produced, string? Refusal, DeliveryReport Report)
    {
        /// <summary>Produced = read by the checker + dropped by the broker, nothing lost or wrong, and nothing dropped under the cap.</summary>
        public bool Held => Report.Lost == 0 && Report.Wrong == 0 && Produced == Report.Sent + Report.DroppedByBroker.GetValueOrDefault(RequestTopic)
                            && (Refusal is not null || Report.DroppedByBroker.Count == 0);

        public string RequestTopic { get; init; } = "";
    }

    public static async Task<IReadOnlyList<Outcome>> RunAsync(string model, Action<string> log)
    {
        var topics = ModelTopics.For(TopicCatalog.Default, model);
        var partitions = TopicCatalog.Default.DeclareAll([model]).Single(d => d.Name == topics.Requests).Partitions;
        // The served event is the largest record a request leads to: it is what must fit (with its
        // serving headers: version, source partition and offset, answered-by, about 100 bytes more).
        var valueBytes = Math.Max(FaultLoad.Body(FaultLoad.RequestId("log-cap-00", 100_000), 100_000).Length, ServedEventBytes(model) + ServedHeaderBytes);
        log($"{Name}: a request leads to records of at most about {valueBytes + BrokerLogCap.RecordOverheadBytes} bytes (its served event)");
        var outcomes = new List<Outcome>();
        foreach (var share in CapShares)
        {
            var records = (long)(share * BrokerLogCap.PartitionBytes * partitions / (valueBytes + BrokerLogCap.RecordOverheadBytes));
            var refusal = BrokerLogCap.Refusal($"a backlog of {share:0.#} x the cap", records, valueBytes, partitions);
            log($"--- {Name}: {records:N0} requests ({share:0.#} x the cap over {partitions} partitions) written before the node starts; " +
                $"the cap check: {refusal ?? "fits"} ---");
            var run = $"log-cap-{(int)(share * 10):D2}";
            using var cluster = await LocalCluster.StartAsync(model, nodes: 1, beforeNodes: (broker, t) => Produce(broker.BootstrapServers, t.Requests, run, records));
            log($"written; the broker dropped {BrokerLogCap.DroppedRecords(cluster.Broker.BootstrapServers, topics.Requests):N0} of them from the start of {topics.Requests}");
            using var oracle = new RegistryOracle(new FolderModelRegistry(cluster.RegistryPath));
            var checker = new DeliveryChecker(oracle);
            // Done when every request still on the topic has an answer, or after a while (the report then says what is missing).
            var deadline = DateTime.UtcNow + Settle;
            var report = checker.Check(ModelTopicContents.Read(cluster.Broker.BootstrapServers, topics));
            while (report.Lost > 0 && DateTime.UtcNow < deadline)
            {
                await Task.Delay(TimeSpan.FromSeconds(3));
                report = checker.Check(ModelTopicContents.Read(cluster.Broker.BootstrapServers, topics));
            }
            var outcome = new Outcome(share, records, refusal, report) { RequestTopic = topics.Requests };
            log($"checked: {report}");
            outcomes.Add(outcome);
        }
        return outcomes;
    }

    /// <summary>The size of a served event for one of the load's requests, as the node writes it (outputs of the demo's shape).</summary>
    private static int ServedEventBytes(string model)
    {
        var body = FaultLoad.Body(FaultLoad.RequestId("log-cap-00", 100_000), 100_000);
        if (!InferenceCodec.TryDecodeRequest(body, out var request, out var error)) throw new InvalidOperationException(error.Message);
        IReadOnlyList<Tensor> outputs = [Tensor.Create("probabilities", new[] { 0.123456789f, 0.876543211f }, 1, 2), Tensor.Create("label", new[] { 1L }, 1)];
        var result = BatchResult.Served(outputs, model, 1, new BatchTimings(TimeSpan.FromMilliseconds(1.234567), TimeSpan.FromMilliseconds(0.345678), 64, 64));
        var now = DateTimeOffset.UtcNow;
        return ServingRecords.ServedEvent(model, request, result, new RequestSource(Inference.Gateway.RequestSources.Kafka, now, 7, 1_234_567), now).Length;
    }

    private static void Produce(string bootstrapServers, string topic, string run, long records)
    {
        using var producer = new ProducerBuilder<string, byte[]>(new ProducerConfig { BootstrapServers = bootstrapServers, LingerMs = 5, Acks = Acks.All }).Build();
        for (var i = 0; i < records; i++) DemoRequests.ProduceWhenRoom(producer, topic, FaultLoad.Record(run, i));
        producer.Flush(TimeSpan.FromMinutes(2));
    }
}
