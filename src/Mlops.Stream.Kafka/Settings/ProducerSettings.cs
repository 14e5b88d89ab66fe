using Confluent.Kafka;

namespace Mlops.Stream.Kafka.Settings;

/// <summary>Immutable settings of the producer flow. Copy with the <c>With*</c> methods.</summary>
public sealed record ProducerSettings<TKey, TValue>
{
    private ProducerSettings(string bootstrapServers) => BootstrapServers = bootstrapServers;

    public static ProducerSettings<TKey, TValue> Create(string bootstrapServers)
    {
        if (string.IsNullOrWhiteSpace(bootstrapServers))
            throw new ArgumentException("Kafka bootstrap servers must not be empty.", nameof(bootstrapServers));
        return new ProducerSettings<TKey, TValue>(bootstrapServers);
    }

    public string BootstrapServers { get; init; }
    public ISerializer<TKey>? KeySerializer { get; init; }
    public ISerializer<TValue>? ValueSerializer { get; init; }
    public IReadOnlyDictionary<string, string> Properties { get; init; } = new Dictionary<string, string>();

    /// <summary>
    /// Envelopes whose records are handed to the producer but not yet acknowledged. The flow stops
    /// pulling at this many, which bounds memory during a broker outage. Default: 4096.
    /// </summary>
    public int Parallelism { get; init; } = 4096;

    /// <summary>How long closing an owned producer waits for outstanding deliveries. Default: 30 s.</summary>
    public TimeSpan CloseTimeout { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// How long librdkafka keeps retrying a record before its delivery fails. Default: infinite,
    /// so a broker outage pauses the stream (bounded by <see cref="Parallelism"/>) instead of
    /// failing records; the outage is reported through <see cref="Health"/>.
    /// </summary>
    public TimeSpan? DeliveryTimeout { get; init; }

    /// <summary>Time librdkafka waits to fill a batch. Default: 5 ms.</summary>
    public TimeSpan Linger { get; init; } = TimeSpan.FromMilliseconds(5);

    public KafkaHealthMonitor Health { get; init; } = new();

    /// <summary>A producer shared with other flows; the flow then never disposes it.</summary>
    public IProducer<TKey, TValue>? SharedProducer { get; init; }

    public string? ClientName { get; init; }

    /// <summary>Set: the flow is transactional (exactly-once with the consumer's offsets); see <see cref="TransactionSettings"/>.</summary>
    public TransactionSettings? Transactions { get; init; }

    public ProducerSettings<TKey, TValue> WithProperty(string key, string value) =>
        this with { Properties = new Dictionary<string, string>(Properties) { [key] = value } };
    public ProducerSettings<TKey, TValue> WithProperties(IEnumerable<KeyValuePair<string, string>> properties)
    {
        var merged = new Dictionary<string, string>(Properties);
        foreach (var (key, value) in properties) merged[key] = value;
        return this with { Properties = merged };
    }
    public ProducerSettings<TKey, TValue> WithParallelism(int parallelism) =>
        parallelism > 0 ? this with { Parallelism = parallelism } : throw new ArgumentOutOfRangeException(nameof(parallelism), "must be positive");
    public ProducerSettings<TKey, TValue> WithDeliveryTimeout(TimeSpan? timeout) => this with { DeliveryTimeout = timeout };
    public ProducerSettings<TKey, TValue> WithLinger(TimeSpan linger) => this with { Linger = linger };
    public ProducerSettings<TKey, TValue> WithHealth(KafkaHealthMonitor health) => this with { Health = health };
    public ProducerSettings<TKey, TValue> WithProducer(IProducer<TKey, TValue> producer) => this with { SharedProducer = producer };
    public ProducerSettings<TKey, TValue> WithSerializers(ISerializer<TKey>? key, ISerializer<TValue>? value) =>
        this with { KeySerializer = key, ValueSerializer = value };
    public ProducerSettings<TKey, TValue> WithClientName(string name) => this with { ClientName = name };
    public ProducerSettings<TKey, TValue> WithTransactions(TransactionSettings transactions) => this with { Transactions = transactions };

    internal string Name => ClientName ?? "producer";

    internal ProducerConfig ToConfig()
    {
        var config = new ProducerConfig
        {
            BootstrapServers = BootstrapServers,
            Acks = Acks.All,
            LingerMs = Linger.TotalMilliseconds,
            MessageTimeoutMs = DeliveryTimeout is { } timeout ? (int)timeout.TotalMilliseconds : 0,
            EnableDeliveryReports = true,
            // Results carry topic, partition, offset and status; copying key and value back is wasted work.
            DeliveryReportFields = "status",
        };
        foreach (var (key, value) in Properties) config.Set(key, value);
        if (Transactions is { } transactions)
        {
            // Transactions need the idempotent producer; a property must not turn it off.
            config.TransactionalId = transactions.TransactionalId;
            config.EnableIdempotence = true;
        }
        return config;
    }

    /// <summary>Builds a producer from these settings, reporting errors to <see cref="Health"/>.</summary>
    public IProducer<TKey, TValue> CreateProducer()
    {
        var builder = new ProducerBuilder<TKey, TValue>(ToConfig())
            .SetErrorHandler((_, error) => Health.ReportError(Name, error))
            .SetLogHandler((_, message) => LibrdkafkaLog.Write(message));
        if (KeySerializer is not null) builder.SetKeySerializer(KeySerializer);
        if (ValueSerializer is not null) builder.SetValueSerializer(ValueSerializer);
        return builder.Build();
    }
}
