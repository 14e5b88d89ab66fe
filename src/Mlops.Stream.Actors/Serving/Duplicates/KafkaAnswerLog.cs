using Mlops.Stream.Kafka;
using System.Buffers.Text;
using Confluent.Kafka;

namespace Mlops.Stream.Actors.Serving.Duplicates;

/// <summary>
/// Reads a model's answer topics (predictions, dead letters) back from their end, in growing
/// chunks per partition, until it reaches answers older than the queries' first request (less
/// <see cref="ClockSkew"/>, since requests and answers are stamped by different clocks). Each
/// answer names the request record it answers and who answered it (headers
/// <c>mlops-source-partition</c>, <c>-offset</c>, <c>mlops-answered-by</c>).
///
/// It reads backwards by offset rather than asking the broker for the offset of a time
/// (<c>OffsetsForTimes</c>) because the embedded broker does not answer that, and because the
/// answers of a failover are the newest records, so a few small chunks usually cover them.
/// </summary>
public sealed class KafkaAnswerLog(ConsumerConfig config, IReadOnlyList<string> answerTopics, long maxRecords = 2_000_000) : IAnswerLog
{
    /// <summary>How far a request producer's clock may run ahead of the nodes' without answers being missed.</summary>
    public static readonly TimeSpan ClockSkew = TimeSpan.FromSeconds(5);

    private const int FirstChunk = 256;
    private static readonly TimeSpan BrokerTimeout = TimeSpan.FromSeconds(10);
    private static readonly TimeSpan PollTimeout = TimeSpan.FromMilliseconds(100);

    /// <summary>A consumer that reads assigned partitions only: its group is never joined and never committed to.</summary>
    public static ConsumerConfig ReaderConfig(string bootstrapServers, IReadOnlyDictionary<string, string> consumerProperties, string model)
    {
        var config = new ConsumerConfig { BootstrapServers = bootstrapServers };
        foreach (var (key, value) in consumerProperties) config.Set(key, value);
        config.GroupId = $"mlops-answer-reader.{model}";
        config.EnableAutoCommit = false;
        config.EnableAutoOffsetStore = false;
        config.EnablePartitionEof = false;
        config.QueuedMaxMessagesKbytes = 4 * 1024;
        return config;
    }

    public IReadOnlyList<EarlierAnswers> Find(IReadOnlyList<AnswerQuery> queries, CancellationToken cancellationToken)
    {
        var scan = new Scan(queries, queries.Min(q => q.NotBefore) - ClockSkew);
        using var consumer = new ConsumerBuilder<Ignore, Ignore>(config).SetLogHandler((_, message) => LibrdkafkaLog.Write(message)).Build();
        using var admin = new DependentAdminClientBuilder(consumer.Handle).Build();
        string? incomplete = null;
        try
        {
            foreach (var topic in answerTopics)
            {
                var metadata = admin.GetMetadata(topic, BrokerTimeout).Topics.Single();
                if (metadata.Error.IsError) throw new KafkaException(metadata.Error);
                foreach (var partition in metadata.Partitions)
                {
                    if (!ReadBack(consumer, new TopicPartition(topic, partition.PartitionId), scan, cancellationToken))
                    {
                        incomplete = $"more than {maxRecords:N0} answers were written since the first of these requests; only the newest were read";
                        break;
                    }
                }
                if (incomplete is not null) break;
            }
        }
        finally
        {
            consumer.Close();
        }
        return [.. scan.Found.Select(offsets => new EarlierAnswers(offsets, incomplete))];
    }

    /// <summary>Reads one answer partition back to the scan's time; false when the record budget ran out first.</summary>
    private bool ReadBack(IConsumer<Ignore, Ignore> consumer, TopicPartition partition, Scan scan, CancellationToken cancellationToken)
    {
        var marks = consumer.QueryWatermarkOffsets(partition, BrokerTimeout);
        long end = marks.High, chunk = FirstChunk;
        while (end > marks.Low)
        {
            var start = Math.Max(marks.Low, end - chunk);
            scan.Read += end - start;
            if (scan.Read > maxRecords) return false;
            // Stop once a whole chunk is older than the scan: answers are appended in roughly the
            // order they were made, but producers' batches can land out of time order, so one old
            // record (the chunk's first) does not prove that everything below it is older.
            var newest = ReadRange(consumer, partition, start, end, scan, cancellationToken);
            if (newest is { } timestamp && timestamp < scan.Since) break;
            end = start;
            chunk *= 2;
        }
        return true;
    }

    /// <summary>
    /// Offers every record of [start, end) to the scan; returns the newest timestamp read. Gives up
    /// when the broker sends nothing for <see cref="BrokerTimeout"/> (a range of any size may take
    /// longer on a loaded machine, as long as records keep coming).
    /// </summary>
    private static DateTimeOffset? ReadRange(IConsumer<Ignore, Ignore> consumer, TopicPartition partition, long start, long end, Scan scan,
        CancellationToken cancellationToken)
    {
        DateTimeOffset? newest = null;
        consumer.Assign(new TopicPartitionOffset(partition, start));
        try
        {
            var idleSince = DateTime.UtcNow;
            while (DateTime.UtcNow - idleSince < BrokerTimeout)
            {
                cancellationToken.ThrowIfCancellationRequested();
                var record = consumer.Consume(PollTimeout);
                if (record is null)
                {
                    // Compacted away or a transaction marker: nothing more comes below the end.
                    if (consumer.Position(partition).Value >= end) return newest;
                    continue;
                }
                idleSince = DateTime.UtcNow;
                if (record.Offset.Value >= end) return newest;
                var timestamp = new DateTimeOffset(record.Message.Timestamp.UtcDateTime);
                if (newest is null || timestamp > newest) newest = timestamp;
                scan.Offer(record.Message.Headers);
                if (record.Offset.Value >= end - 1) return newest;
            }
            throw new TimeoutException($"Reading {partition} from {start} to {end}: the broker sent nothing for {BrokerTimeout.TotalSeconds:F0} s.");
        }
        finally
        {
            consumer.Unassign();
        }
    }

    /// <summary>The queries of one pass and what was found for each.</summary>
    private sealed class Scan(IReadOnlyList<AnswerQuery> queries, DateTimeOffset since)
    {
        private readonly ILookup<int, int> _queriesByPartition = queries.Select((q, i) => (q.Partition, i)).ToLookup(x => x.Partition, x => x.i);

        public DateTimeOffset Since { get; } = since;
        public HashSet<long>[] Found { get; } = [.. queries.Select(_ => new HashSet<long>())];
        public long Read { get; set; }

        public void Offer(Headers? headers)
        {
            if (headers is null || !TryReadNumber(headers, ServingHeaders.SourcePartition, out var partition)
                                || !TryReadNumber(headers, ServingHeaders.SourceOffset, out var offset)) return;
            if (!_queriesByPartition.Contains((int)partition)) return;
            var answeredBy = ServingHeaders.Read(headers, ServingHeaders.AnsweredBy);
            foreach (var index in _queriesByPartition[(int)partition])
            {
                var query = queries[index];
                if (offset >= query.FromOffset && answeredBy != query.AskerTag) Found[index].Add(offset);
            }
        }

        private static bool TryReadNumber(Headers headers, string name, out long value)
        {
            value = 0;
            return headers.TryGetLastBytes(name, out var bytes) && bytes is not null
                && Utf8Parser.TryParse(bytes, out value, out var consumed) && consumed == bytes.Length;
        }
    }
}
