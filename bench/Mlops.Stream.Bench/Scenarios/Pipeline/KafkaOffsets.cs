using Confluent.Kafka;

namespace Mlops.Stream.Bench.Scenarios.Pipeline;

/// <summary>
/// Reads a consumer group's committed offsets and topics' end offsets without joining the group
/// (the mock broker cannot describe groups, so this is how lag is read), and reads back the record
/// timestamps of an offset range.
/// </summary>
public sealed class KafkaOffsets(string bootstrap, string group) : IDisposable
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(10);

    private readonly IConsumer<byte[], byte[]> _consumer = new ConsumerBuilder<byte[], byte[]>(new ConsumerConfig
    {
        BootstrapServers = bootstrap, GroupId = group, EnableAutoCommit = false,
    }).Build();

    /// <summary>The group's committed offset per partition (-1 where none).</summary>
    public Dictionary<int, long> Committed(string topic, IEnumerable<int> partitions) =>
        _consumer.Committed(partitions.Select(p => new TopicPartition(topic, p)), Timeout)
            .ToDictionary(c => c.Partition.Value, c => c.Offset.Value);

    /// <summary>The offset after the last record, per partition.</summary>
    public long[] EndOffsets(string topic, int partitions) =>
        [.. Enumerable.Range(0, partitions).Select(p => _consumer.QueryWatermarkOffsets(new TopicPartition(topic, p), Timeout).High.Value)];

    /// <summary>Waits until the group has committed at least <paramref name="ends"/> on every partition named there.</summary>
    public async Task<bool> WaitForCommitsAsync(string topic, IReadOnlyDictionary<int, long> ends, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (DateTime.UtcNow < deadline)
        {
            var committed = Committed(topic, ends.Keys);
            if (ends.All(e => committed.TryGetValue(e.Key, out var c) && c >= e.Value)) return true;
            await Task.Delay(20);
        }
        return false;
    }

    /// <summary>
    /// Reads <paramref name="topic"/> from <paramref name="from"/> to <paramref name="to"/> (per
    /// partition index) and returns how many records there were and their first and last timestamps.
    /// </summary>
    public static (int Records, long FirstMs, long LastMs) Timestamps(string bootstrap, string topic, long[] from, long[] to)
    {
        var all = AllTimestamps(bootstrap, topic, from, to);
        return all.Count == 0 ? (0, long.MaxValue, long.MinValue) : (all.Count, all[0], all[^1]);
    }

    /// <summary>The timestamps (ms) of the records of <paramref name="topic"/> from <paramref name="from"/> to <paramref name="to"/>, ascending.</summary>
    public static List<long> AllTimestamps(string bootstrap, string topic, long[] from, long[] to)
    {
        using var reader = new ConsumerBuilder<byte[], byte[]>(new ConsumerConfig
        {
            BootstrapServers = bootstrap, GroupId = $"bench-read-{Guid.NewGuid():N}", EnableAutoCommit = false, FetchWaitMaxMs = 5,
        }).Build();
        var wanted = Enumerable.Range(0, from.Length).Where(p => to[p] > from[p]).ToList();
        reader.Assign(wanted.Select(p => new TopicPartitionOffset(topic, p, from[p])));
        var left = wanted.ToDictionary(p => p, p => to[p] - from[p]);
        var timestamps = new List<long>();
        var deadline = DateTime.UtcNow + TimeSpan.FromMinutes(1);
        while (left.Values.Any(n => n > 0) && DateTime.UtcNow < deadline)
        {
            if (reader.Consume(TimeSpan.FromMilliseconds(100)) is not { Message: { } message } result) continue;
            if (result.Offset.Value >= to[result.Partition.Value]) continue;
            left[result.Partition.Value]--;
            timestamps.Add(message.Timestamp.UnixTimestampMs);
        }
        timestamps.Sort();
        return timestamps;
    }

    public void Dispose()
    {
        _consumer.Close();
        _consumer.Dispose();
    }
}
