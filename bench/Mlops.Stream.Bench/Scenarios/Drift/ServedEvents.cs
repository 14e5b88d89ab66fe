using Confluent.Kafka;

namespace Mlops.Stream.Bench.Scenarios.Drift;

/// <summary>A served-events topic read whole into memory, for the drift job's evaluation core to run on without Kafka, and written again for the job to judge warm.</summary>
public static class ServedEvents
{
    public sealed record Record(byte[] Value, int Partition, long Offset);

    public static IReadOnlyList<Record> ReadAll(string bootstrap, string topic, int partitions)
    {
        using var reader = new ConsumerBuilder<byte[], byte[]>(new ConsumerConfig
        {
            BootstrapServers = bootstrap, GroupId = $"bench-served-{Guid.NewGuid():N}", EnableAutoCommit = false, FetchWaitMaxMs = 5,
        }).Build();
        var ends = Enumerable.Range(0, partitions)
            .Select(p => reader.QueryWatermarkOffsets(new TopicPartition(topic, p), TimeSpan.FromSeconds(10)).High.Value).ToArray();
        reader.Assign(Enumerable.Range(0, partitions).Where(p => ends[p] > 0).Select(p => new TopicPartitionOffset(topic, p, Offset.Beginning)));
        var records = new List<Record>();
        var left = ends.Sum();
        var deadline = DateTime.UtcNow + TimeSpan.FromMinutes(1);
        while (records.Count < left && DateTime.UtcNow < deadline)
        {
            if (reader.Consume(TimeSpan.FromMilliseconds(100)) is not { Message: { } message } result) continue;
            records.Add(new Record(message.Value, result.Partition.Value, result.Offset.Value));
        }

        if (records.Count < left) throw new TimeoutException($"read {records.Count} of {left} served events of {topic} within a minute");

        // Per partition in offset order, partitions interleaved as the consumer fetched them: as the job meets them.
        return records;
    }

    /// <summary>Writes <paramref name="records"/>' values to <paramref name="topic"/> again, each to its own partition, and waits until all are acknowledged.</summary>
    public static void Write(string bootstrap, string topic, IReadOnlyList<Record> records)
    {
        using var producer = new ProducerBuilder<byte[]?, byte[]>(new ProducerConfig { BootstrapServers = bootstrap, LingerMs = 5 }).Build();
        var failed = 0;
        foreach (var record in records)
        {
            while (true)
            {
                try
                {
                    producer.Produce(new TopicPartition(topic, record.Partition), new Message<byte[]?, byte[]> { Value = record.Value }, report =>
                    {
                        if (report.Error.IsError) Interlocked.Increment(ref failed);
                    });
                    break;
                }
                catch (ProduceException<byte[]?, byte[]> e) when (e.Error.Code == ErrorCode.Local_QueueFull)
                {
                    producer.Poll(TimeSpan.FromMilliseconds(10));
                }
            }
        }

        if (producer.Flush(TimeSpan.FromMinutes(1)) > 0 || failed > 0)
            throw new InvalidOperationException($"writing {records.Count} served events to {topic} again: {failed} failed, the rest not acknowledged within a minute");
    }
}
