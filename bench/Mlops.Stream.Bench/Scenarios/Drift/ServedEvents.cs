using Confluent.Kafka;

namespace Mlops.Stream.Bench.Scenarios.Drift;

/// <summary>A served-events topic read whole into memory, for the drift job's evaluation core to run on without Kafka.</summary>
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
}
