using System.Diagnostics;
using Confluent.Kafka;

namespace Mlops.Stream.Bench.Scenarios.Pipeline;

/// <summary>
/// The transport ceiling: a plain Confluent.Kafka loop over a request backlog that, for every
/// request, writes two records of the node's sizes and headers (a prediction and a served event, no
/// model, no decoding) and commits the highest input offset whose two records are acknowledged,
/// every 1,000 requests. Timed from the first record consumed to the last acknowledgement, as the
/// node's drain is timed from its first prediction to its last.
/// </summary>
public static class TransportLoop
{
    public static double Run(string bootstrap, RequestBacklog backlog, (byte[] Prediction, byte[] Served, Headers Headers) answer,
        string predictionsTopic, string servedTopic, string group)
    {
        using var consumer = new ConsumerBuilder<string, byte[]>(new ConsumerConfig
        {
            BootstrapServers = bootstrap, GroupId = group, EnableAutoCommit = false, EnableAutoOffsetStore = false, FetchWaitMaxMs = 5,
        }).Build();
        using var producer = new ProducerBuilder<string, byte[]>(new ProducerConfig
        {
            BootstrapServers = bootstrap, Acks = Acks.All, LingerMs = 5, DeliveryReportFields = "status",
        }).Build();
        consumer.Assign(backlog.Starts);

        // Per request, how many of its two records are still unacknowledged; per partition, the highest acknowledged input offset.
        var pending = new int[backlog.Requests];
        var acked = new long[backlog.Partitions.Keys.Max() + 1];
        Array.Fill(acked, -1);
        var ackedCount = 0L;
        var failed = 0L;
        Stopwatch? stopwatch = null;
        var consumed = 0;
        while (Interlocked.Read(ref ackedCount) < backlog.Requests)
        {
            if (Interlocked.Read(ref failed) > 0) throw new InvalidOperationException("transport loop: a record was refused by the broker");
            if (consumed == backlog.Requests || consumer.Consume(TimeSpan.FromMilliseconds(100)) is not { } record)
            {
                producer.Poll(TimeSpan.FromMilliseconds(1));
                continue;
            }
            stopwatch ??= Stopwatch.StartNew();
            var index = consumed++;
            var (partition, offset) = (record.Partition.Value, record.Offset.Value);
            pending[index] = 2;
            Action<DeliveryReport<string, byte[]>> delivered = report =>
            {
                if (report.Error.IsError) Interlocked.Increment(ref failed);
                if (Interlocked.Decrement(ref pending[index]) != 0) return;
                lock (acked) acked[partition] = Math.Max(acked[partition], offset);
                Interlocked.Increment(ref ackedCount);
            };
            Cluster.DemoRequests.ProduceWhenRoom(producer, predictionsTopic,
                new Message<string, byte[]> { Key = record.Message.Key, Value = answer.Prediction, Headers = answer.Headers }, delivered);
            Cluster.DemoRequests.ProduceWhenRoom(producer, servedTopic,
                new Message<string, byte[]> { Key = record.Message.Key, Value = answer.Served, Headers = answer.Headers }, delivered);
            if (consumed % 1000 == 0) Commit(consumer, backlog.Topic, acked);
        }
        var seconds = stopwatch!.Elapsed.TotalSeconds;
        Commit(consumer, backlog.Topic, acked);
        consumer.Close();
        return backlog.Requests / seconds;
    }

    private static void Commit(IConsumer<string, byte[]> consumer, string topic, long[] acked)
    {
        List<TopicPartitionOffset> offsets;
        lock (acked) offsets = [.. acked.Select((o, p) => (o, p)).Where(a => a.o >= 0).Select(a => new TopicPartitionOffset(topic, a.p, a.o + 1))];
        if (offsets.Count > 0) consumer.Commit(offsets);
    }
}
