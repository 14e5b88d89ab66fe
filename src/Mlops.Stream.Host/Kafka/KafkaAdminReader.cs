using System.Collections.Concurrent;
using Confluent.Kafka;
using Confluent.Kafka.Admin;
using Mlops.Stream.Http;

namespace Mlops.Stream.Host.Kafka;

/// <summary>
/// Read-only questions to the broker for the operator routes and the readiness check: is it there,
/// which topics exist, their watermarks, a group's committed offsets. One admin client for the
/// node's lifetime, so a question costs a request, not a connection. Every failure is a <see cref="BrokerUnavailableException"/>.
/// </summary>
/// <remarks>
/// Only requests the embedded broker (librdkafka's mock cluster) serves are used: all-topics metadata,
/// ListOffsets, and OffsetFetch through ListConsumerGroupOffsets. It auto-creates a topic that a
/// metadata request names, and its ListGroups corrupts the native heap (librdkafka 2.16: "double free
/// detected"), so topics are never looked up by name and groups are never listed: the node asks about
/// the groups it runs itself.
/// </remarks>
public sealed class KafkaAdminReader : IDisposable
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(10);

    private readonly Lazy<IAdminClient> _admin;

    // Topics seen to exist. Topics are not deleted while a node runs, so a hit spares the produce
    // route a metadata request per batch; one entry per model's request topic at most.
    private readonly ConcurrentDictionary<string, bool> _existing = new(StringComparer.Ordinal);

    public KafkaAdminReader(KafkaClientConfigs configs, ILogger<KafkaAdminReader> logger)
    {
        _admin = new Lazy<IAdminClient>(() => new AdminClientBuilder(configs.Admin())
            // Failed reconnects are reported by the answers (503) and the readiness check; keep them out of the log.
            .SetLogHandler((_, message) => logger.LogDebug("librdkafka {Facility}: {Message}", message.Facility, message.Message))
            .SetErrorHandler((_, error) => logger.LogDebug("librdkafka error {Code}: {Reason}", error.Code, error.Reason))
            .Build());
    }

    /// <summary>
    /// The broker's answer to an all-topics metadata request (a metadata request naming a topic makes
    /// the embedded broker create it), within <paramref name="timeout"/>.
    /// </summary>
    public Task<Metadata> MetadataAsync(TimeSpan timeout, CancellationToken cancellationToken) =>
        // GetMetadata blocks; keep it off the caller's thread.
        Task.Run(() =>
        {
            try
            {
                return _admin.Value.GetMetadata(timeout);
            }
            catch (KafkaException e)
            {
                throw new BrokerUnavailableException($"Kafka did not answer a metadata request within {timeout.TotalSeconds:0.#} s: {e.Error.Reason}", e);
            }
        }, cancellationToken);

    /// <summary>Every topic on the broker (internal ones aside) with its partition ids, ascending.</summary>
    public async Task<IReadOnlyDictionary<string, IReadOnlyList<int>>> TopicsAsync(CancellationToken cancellationToken)
    {
        var metadata = await MetadataAsync(Timeout, cancellationToken);
        var topics = metadata.Topics
            .Where(t => t.Error.Code == ErrorCode.NoError && !t.Topic.StartsWith("__", StringComparison.Ordinal))
            .ToDictionary(t => t.Topic, t => (IReadOnlyList<int>)[.. t.Partitions.Select(p => p.PartitionId).Order()], StringComparer.Ordinal);
        foreach (var topic in topics.Keys) _existing.TryAdd(topic, true);
        return topics;
    }

    /// <summary>Whether <paramref name="topic"/> exists; remembered once seen.</summary>
    public async Task<bool> ExistsAsync(string topic, CancellationToken cancellationToken) =>
        _existing.ContainsKey(topic) || (await TopicsAsync(cancellationToken)).ContainsKey(topic);

    /// <summary>The earliest or latest offset of each partition (<see cref="OffsetSpec.Earliest"/>, <see cref="OffsetSpec.Latest"/>).</summary>
    public async Task<IReadOnlyDictionary<TopicPartition, long>> OffsetsAsync(IReadOnlyCollection<TopicPartition> partitions, OffsetSpec spec)
    {
        if (partitions.Count == 0) return new Dictionary<TopicPartition, long>();
        try
        {
            var result = await _admin.Value.ListOffsetsAsync(
                partitions.Select(p => new TopicPartitionOffsetSpec { TopicPartition = p, OffsetSpec = spec }),
                new ListOffsetsOptions { RequestTimeout = Timeout });
            return result.ResultInfos.ToDictionary(r => r.TopicPartitionOffsetError.TopicPartition, r => r.TopicPartitionOffsetError.Offset.Value);
        }
        catch (KafkaException e)
        {
            throw new BrokerUnavailableException($"Kafka did not list offsets: {e.Error.Reason}", e);
        }
    }

    /// <summary>The offsets <paramref name="group"/> committed on <paramref name="partitions"/>; null where it committed none.</summary>
    public async Task<IReadOnlyDictionary<TopicPartition, long?>> CommittedAsync(string group, IReadOnlyCollection<TopicPartition> partitions)
    {
        try
        {
            var results = await _admin.Value.ListConsumerGroupOffsetsAsync(
                [new ConsumerGroupTopicPartitions(group, [.. partitions])],
                new ListConsumerGroupOffsetsOptions { RequestTimeout = Timeout });
            return results.Single().Partitions.ToDictionary(p => p.TopicPartition, p => p.Offset.Value >= 0 ? p.Offset.Value : (long?)null);
        }
        catch (KafkaException e)
        {
            throw new BrokerUnavailableException($"Kafka did not list the offsets of group '{group}': {e.Error.Reason}", e);
        }
    }

    public void Dispose()
    {
        if (_admin.IsValueCreated) _admin.Value.Dispose();
    }
}
