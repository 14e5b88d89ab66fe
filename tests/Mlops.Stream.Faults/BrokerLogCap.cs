using Confluent.Kafka;

namespace Mlops.Stream.Faults;

/// <summary>
/// The embedded broker's own limit (issue 14, scenario 12): librdkafka's mock cluster keeps about
/// 5 MiB (or 100,000 message sets) per partition and drops the oldest records beyond that without
/// notice. A run must keep every topic it checks under the cap, or the broker loses records the
/// delivery checker would blame on the node; <see cref="Refusal"/> says up front whether a planned
/// backlog fits, and <see cref="DroppedRecords"/> finds out afterwards whether the broker dropped any.
/// </summary>
public static class BrokerLogCap
{
    /// <summary>About what one partition of the mock broker holds.</summary>
    public const long PartitionBytes = 5L * 1024 * 1024;

    /// <summary>What a record costs the broker beyond its value (key, a request id header, record and batch framing), roughly.</summary>
    public const int RecordOverheadBytes = 100;

    /// <summary>
    /// Why <paramref name="records"/> records of <paramref name="valueBytes"/> bytes spread over
    /// <paramref name="partitions"/> partitions would not fit under the cap; null when they fit.
    /// </summary>
    public static string? Refusal(string what, long records, int valueBytes, int partitions)
    {
        var perPartition = BytesPerPartition(records, valueBytes, partitions);
        return perPartition <= PartitionBytes
            ? null
            : $"{what}: {records:N0} records put about {perPartition / 1024.0 / 1024:F1} MiB on each of the {partitions} partitions; " +
              $"the embedded broker keeps about {PartitionBytes / 1024 / 1024} MiB per partition and would drop the oldest";
    }

    /// <summary>About how many bytes each partition gets.</summary>
    public static long BytesPerPartition(long records, int valueBytes, int partitions) => records * (valueBytes + RecordOverheadBytes) / partitions;

    /// <summary>The start offset of every partition of <paramref name="topic"/>: above 0 where the broker dropped its oldest records.</summary>
    public static IReadOnlyDictionary<int, long> LogStarts(string bootstrapServers, string topic)
    {
        using var consumer = new ConsumerBuilder<Ignore, Ignore>(new ConsumerConfig { BootstrapServers = bootstrapServers, GroupId = "mlops-log-starts" }).Build();
        using var admin = new DependentAdminClientBuilder(consumer.Handle).Build();
        var timeout = TimeSpan.FromSeconds(10);
        return admin.GetMetadata(topic, timeout).Topics.Single().Partitions.ToDictionary(
            p => p.PartitionId,
            p => consumer.QueryWatermarkOffsets(new TopicPartition(topic, p.PartitionId), timeout).Low.Value);
    }

    /// <summary>Records the broker dropped from the start of <paramref name="topic"/> (the sum of its partitions' start offsets).</summary>
    public static long DroppedRecords(string bootstrapServers, string topic) => LogStarts(bootstrapServers, topic).Values.Sum();
}
