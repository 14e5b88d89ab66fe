using Confluent.Kafka;

namespace Mlops.Stream.Kafka.Settings;

/// <summary>
/// Immutable settings of a Kafka consumer source. Copy with the <c>With*</c> methods.
/// The source always disables librdkafka's auto-commit and auto offset store: offsets are
/// committed only by <see cref="Dsl.Committer"/>, after the work on a record has finished.
/// </summary>
public sealed record ConsumerSettings<TKey, TValue>
{
    private ConsumerSettings(string bootstrapServers, string groupId)
    {
        BootstrapServers = bootstrapServers;
        GroupId = groupId;
    }

    public static ConsumerSettings<TKey, TValue> Create(string bootstrapServers, string groupId)
    {
        if (string.IsNullOrWhiteSpace(bootstrapServers))
            throw new ArgumentException("Kafka bootstrap servers must not be empty.", nameof(bootstrapServers));
        if (string.IsNullOrWhiteSpace(groupId))
            throw new ArgumentException("A consumer group id is required.", nameof(groupId));
        return new ConsumerSettings<TKey, TValue>(bootstrapServers, groupId);
    }

    public string BootstrapServers { get; init; }
    public string GroupId { get; init; }

    /// <summary>Null means Confluent.Kafka's default deserializer for the type.</summary>
    public IDeserializer<TKey>? KeyDeserializer { get; init; }
    public IDeserializer<TValue>? ValueDeserializer { get; init; }

    /// <summary>Extra librdkafka properties (security, fetch sizes…); they override the defaults below.</summary>
    public IReadOnlyDictionary<string, string> Properties { get; init; } = new Dictionary<string, string>();

    /// <summary>
    /// Records fetched but not yet pulled downstream. When this many are waiting the source takes
    /// no more from librdkafka, and if downstream takes none for <see cref="PauseAfter"/> every
    /// assigned partition is paused until it has taken half of them, so nothing buffers without
    /// bound (at most one more record can arrive in the poll that assigns new partitions, before
    /// they are paused). librdkafka's own prefetch queue is bounded separately by
    /// <c>queued.max.messages.kbytes</c> (16 MiB here). Default: 512.
    /// </summary>
    public int MaxBufferSize { get; init; } = 512;

    /// <summary>How long a full buffer may wait for downstream before the partitions are paused. Default: 500 ms.</summary>
    public TimeSpan PauseAfter { get; init; } = TimeSpan.FromMilliseconds(500);

    /// <summary>How long one poll of the consumer may block its thread. Default: 50 ms.</summary>
    public TimeSpan PollTimeout { get; init; } = TimeSpan.FromMilliseconds(50);

    /// <summary>After <c>Stop</c>, the consumer is closed at the latest after this long even if
    /// nobody calls <c>Shutdown</c>. Default: 30 s.</summary>
    public TimeSpan StopTimeout { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>Upper bound of a synchronous commit made while partitions are revoked. Default: 10 s.</summary>
    public TimeSpan CommitTimeout { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>
    /// When partitions are revoked from a live consumer (a rebalance), how long it waits for the
    /// records it already handed downstream to complete, so it commits them instead of leaving them
    /// to the next owner to process again. Those records' answers are then all written before the
    /// next owner starts. Default: 10 s; zero hands them over at once (at-least-once either way).
    /// </summary>
    public TimeSpan RevokeDrainTimeout { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>Where broker reachability is reported (log + health state). Shared by the host.</summary>
    public KafkaHealthMonitor Health { get; init; } = new();

    /// <summary>Where the consumer starts when its group has no committed offset. Default: earliest.</summary>
    public AutoOffsetReset AutoOffsetReset { get; init; } = AutoOffsetReset.Earliest;

    /// <summary>
    /// Offsets are committed by a transactional producer flow (<see cref="TransactionSettings"/>), in
    /// the transactions that hold each record's outputs, never by the consumer itself; the consumer
    /// reads <c>read_committed</c>. See <see cref="WithTransactionalOffsets"/>.
    /// </summary>
    public bool OffsetsCommittedByTransactions { get; init; }

    /// <summary>A name for logs and health (defaults to the group id).</summary>
    public string? ClientName { get; init; }

    public ConsumerSettings<TKey, TValue> WithGroupId(string groupId) => this with { GroupId = groupId };
    public ConsumerSettings<TKey, TValue> WithProperty(string key, string value) =>
        this with { Properties = new Dictionary<string, string>(Properties) { [key] = value } };
    public ConsumerSettings<TKey, TValue> WithProperties(IEnumerable<KeyValuePair<string, string>> properties)
    {
        var merged = new Dictionary<string, string>(Properties);
        foreach (var (key, value) in properties) merged[key] = value;
        return this with { Properties = merged };
    }
    public ConsumerSettings<TKey, TValue> WithMaxBufferSize(int size) =>
        size > 0 ? this with { MaxBufferSize = size } : throw new ArgumentOutOfRangeException(nameof(size), "must be positive");
    public ConsumerSettings<TKey, TValue> WithPollTimeout(TimeSpan timeout) => this with { PollTimeout = timeout };
    public ConsumerSettings<TKey, TValue> WithPauseAfter(TimeSpan delay) => this with { PauseAfter = delay };
    public ConsumerSettings<TKey, TValue> WithStopTimeout(TimeSpan timeout) => this with { StopTimeout = timeout };
    public ConsumerSettings<TKey, TValue> WithHealth(KafkaHealthMonitor health) => this with { Health = health };
    public ConsumerSettings<TKey, TValue> WithAutoOffsetReset(AutoOffsetReset reset) => this with { AutoOffsetReset = reset };
    public ConsumerSettings<TKey, TValue> WithDeserializers(IDeserializer<TKey>? key, IDeserializer<TValue>? value) =>
        this with { KeyDeserializer = key, ValueDeserializer = value };
    public ConsumerSettings<TKey, TValue> WithClientName(string name) => this with { ClientName = name };
    /// <summary>For exactly-once: the offsets go with a transactional producer flow's transactions, not through this consumer.</summary>
    public ConsumerSettings<TKey, TValue> WithTransactionalOffsets() => this with { OffsetsCommittedByTransactions = true };

    internal string Name => ClientName ?? $"consumer:{GroupId}";

    internal ConsumerConfig ToConfig()
    {
        var config = new ConsumerConfig
        {
            BootstrapServers = BootstrapServers,
            GroupId = GroupId,
            EnableAutoCommit = false,
            EnableAutoOffsetStore = false,
            AutoOffsetReset = AutoOffsetReset,
            // Keep librdkafka's own prefetch queue modest: it is the part of consumer-side buffering
            // we do not count ourselves, so bound it explicitly (per partition).
            QueuedMaxMessagesKbytes = 16 * 1024,
            EnablePartitionEof = false,
        };
        foreach (var (key, value) in Properties) config.Set(key, value);
        // These two are what makes at-least-once hold; a property must not turn them back on.
        config.EnableAutoCommit = false;
        config.EnableAutoOffsetStore = false;
        // Exactly-once reads only what committed transactions wrote.
        if (OffsetsCommittedByTransactions) config.IsolationLevel = IsolationLevel.ReadCommitted;
        return config;
    }
}
