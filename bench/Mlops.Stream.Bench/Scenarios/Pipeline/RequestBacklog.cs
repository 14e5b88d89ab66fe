using Confluent.Kafka;
using Mlops.Stream.Actors.Serving;
using Mlops.Stream.Bench.Cluster;

namespace Mlops.Stream.Bench.Scenarios.Pipeline;

/// <summary>
/// One run's requests written to the request topic while nobody consumes it: per partition, the
/// offset of its first record and the offset after its last. Request ids (and keys) are
/// <c>&lt;run&gt;-&lt;n&gt;</c>, so the keys spread over every partition. Values are v2 JSON, or the
/// protocol's protobuf (<see cref="RecordEncoding"/>).
/// </summary>
public sealed record RequestBacklog(string Topic, string Run, int Requests, IReadOnlyDictionary<int, (long Start, long End)> Partitions, long Bytes)
{
    /// <summary>The mock broker keeps about 5 MiB per partition; a backlog above half of it is reported.</summary>
    private const long PartitionBytesWarning = Faults.BrokerLogCap.PartitionBytes / 2;

    public IEnumerable<TopicPartitionOffset> Starts =>
        Partitions.Select(p => new TopicPartitionOffset(Topic, p.Key, p.Value.Start));

    /// <summary>Per partition, the offset after the backlog's last record: where the serving group's commits must reach.</summary>
    public IReadOnlyDictionary<int, long> Ends => Partitions.ToDictionary(p => p.Key, p => p.Value.End);

    public long LargestPartition => Partitions.Values.Max(p => p.End - p.Start);

    public long LargestPartitionBytes => Bytes / Requests * LargestPartition;

    public static RequestBacklog Produce(string bootstrap, string topic, string run, int requests, RecordEncoding encoding = RecordEncoding.Json)
    {
        using var producer = new ProducerBuilder<string, byte[]>(new ProducerConfig { BootstrapServers = bootstrap, LingerMs = 5 }).Build();
        var gate = new object();
        var ranges = new Dictionary<int, (long Start, long End)>();
        var failed = 0;
        var bytes = 0L;
        for (var i = 0; i < requests; i++)
        {
            var record = DemoRequests.Record($"{run}-{i}", encoding);
            bytes += record.Value.Length + record.Key.Length;
            DemoRequests.ProduceWhenRoom(producer, topic, record, report =>
            {
                if (report.Error.IsError)
                {
                    Interlocked.Increment(ref failed);
                    return;
                }
                lock (gate)
                {
                    var (partition, offset) = (report.Partition.Value, report.Offset.Value);
                    ranges[partition] = ranges.TryGetValue(partition, out var range)
                        ? (Math.Min(range.Start, offset), Math.Max(range.End, offset + 1))
                        : (offset, offset + 1);
                }
            });
        }
        producer.Flush(TimeSpan.FromMinutes(1));
        if (failed > 0) throw new InvalidOperationException($"{failed} of {requests} requests of {run} were not delivered to the broker");
        var backlog = new RequestBacklog(topic, run, requests, ranges, bytes);
        if (backlog.Partitions.Values.Sum(p => p.End - p.Start) != requests)
            throw new InvalidOperationException($"{run}: the offsets of its partitions do not add up to {requests}: another producer wrote to {topic}");
        if (backlog.LargestPartitionBytes > PartitionBytesWarning)
            Console.WriteLine($"warning: {run}: {backlog.LargestPartitionBytes / 1024} KiB in one partition, over half the mock broker's ~5 MiB partition log; use more --partitions or fewer --requests");
        return backlog;
    }
}
