using Confluent.Kafka;

namespace Mlops.Stream.Kafka.Tests.Infrastructure;

/// <summary>
/// Plain Confluent.Kafka helpers for tests: produce records, read a topic back, ask for metadata.
/// They use no code under test, so they can check it. Every wait is bounded by a timeout.
/// </summary>
public static class KafkaTestClient
{
    /// <summary>A default bound for waits in Kafka tests: generous for a loaded 2-core CI machine.</summary>
    public static readonly TimeSpan DefaultTimeout = TimeSpan.FromSeconds(30);

    public static ProducerConfig ProducerConfig(string bootstrapServers) => new()
    {
        BootstrapServers = bootstrapServers,
        Acks = Acks.All,
        // Small linger: tests produce few records and want them acknowledged quickly.
        LingerMs = 5,
        MessageTimeoutMs = (int)DefaultTimeout.TotalMilliseconds,
        ReconnectBackoffMs = 50,
        ReconnectBackoffMaxMs = 500,
    };

    public static ConsumerConfig ConsumerConfig(string bootstrapServers, string groupId) => new()
    {
        BootstrapServers = bootstrapServers,
        GroupId = groupId,
        AutoOffsetReset = AutoOffsetReset.Earliest,
        EnableAutoCommit = false,
        // A single test consumer should get its partitions at once, not after a rebalance delay.
        SessionTimeoutMs = 6000,
    };

    /// <summary>
    /// Produces <paramref name="count"/> string records keyed <c>key-{i}</c> with value
    /// <c>{valuePrefix}{i}</c> and waits for every acknowledgement.
    /// </summary>
    public static async Task<IReadOnlyList<DeliveryResult<string, string>>> ProduceAsync(
        string bootstrapServers, string topic, int count, string valuePrefix = "value-", CancellationToken cancellationToken = default)
    {
        using var producer = new ProducerBuilder<string, string>(ProducerConfig(bootstrapServers)).Build();
        var deliveries = Enumerable.Range(0, count)
            .Select(i => producer.ProduceAsync(topic, new Message<string, string> { Key = $"key-{i}", Value = $"{valuePrefix}{i}" }, cancellationToken))
            .ToArray();
        return await Task.WhenAll(deliveries).WaitAsync(DefaultTimeout, cancellationToken);
    }

    /// <summary>
    /// Reads <paramref name="topic"/> from the beginning with a fresh consumer group until
    /// <paramref name="expected"/> records arrived or <paramref name="timeout"/> passed, and returns
    /// what it read (fewer records than expected means the timeout passed).
    /// </summary>
    public static IReadOnlyList<ConsumeResult<string, string>> ReadTopic(
        string bootstrapServers, string topic, int expected, TimeSpan? timeout = null)
    {
        var deadline = DateTime.UtcNow + (timeout ?? DefaultTimeout);
        var config = ConsumerConfig(bootstrapServers, $"test-reader-{Guid.NewGuid():N}");
        using var consumer = new ConsumerBuilder<string, string>(config).Build();
        consumer.Subscribe(topic);
        var records = new List<ConsumeResult<string, string>>();
        try
        {
            while (records.Count < expected && DateTime.UtcNow < deadline)
            {
                var result = consumer.Consume(TimeSpan.FromMilliseconds(200));
                if (result is { IsPartitionEOF: false, Message: not null }) records.Add(result);
            }
        }
        finally
        {
            consumer.Close();
        }
        return records;
    }

    /// <summary>Partition count of <paramref name="topic"/> as the cluster reports it, or null if it does not exist.</summary>
    /// <remarks>
    /// Asks for all topics: a metadata request naming one topic makes a broker with auto-creation on
    /// (the embedded mock cluster always, with 4 partitions) create it, which would hide its absence.
    /// </remarks>
    public static int? PartitionCount(string bootstrapServers, string topic)
    {
        using var admin = new AdminClientBuilder(new AdminClientConfig { BootstrapServers = bootstrapServers }).Build();
        var metadata = admin.GetMetadata(TimeSpan.FromSeconds(10));
        var entry = metadata.Topics.SingleOrDefault(t => t.Topic == topic);
        return entry is null || entry.Error.IsError ? null : entry.Partitions.Count;
    }
}
