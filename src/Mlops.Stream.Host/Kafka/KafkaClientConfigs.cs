using Confluent.Kafka;
using Microsoft.Extensions.Options;
using Mlops.Stream.Host.Options;
using Mlops.Stream.Kafka.Connection;

namespace Mlops.Stream.Host.Kafka;

/// <summary>
/// librdkafka settings for the node's operator clients (topic inspection, tails, the produce route),
/// built like every other client of the node: the bootstrap address plus <c>Kafka:ClientProperties</c>
/// (SASL/SSL) and the consumer or producer properties on top.
/// </summary>
public sealed class KafkaClientConfigs(KafkaEndpoint kafka, IOptions<KafkaOptions> options)
{
    /// <summary>How long the produce route waits for the broker to acknowledge a record before answering 503.</summary>
    public static readonly TimeSpan ProduceTimeout = TimeSpan.FromSeconds(30);

    public KafkaMode Mode => kafka.Mode;

    public AdminClientConfig Admin()
    {
        var config = new AdminClientConfig { BootstrapServers = kafka.BootstrapServers };
        foreach (var (key, value) in options.Value.ClientProperties) config.Set(key, value);
        return config;
    }

    /// <summary>
    /// A read-only consumer: a group id of its own that is never joined or committed to (it reads
    /// assigned partitions), and a small prefetch queue because a tail is only as fast as its reader.
    /// </summary>
    public ConsumerConfig ReadOnlyConsumer(string groupId)
    {
        var config = new ConsumerConfig
        {
            BootstrapServers = kafka.BootstrapServers,
            AutoOffsetReset = AutoOffsetReset.Earliest,
            EnablePartitionEof = false,
            QueuedMaxMessagesKbytes = 1024,
        };
        foreach (var (key, value) in ConsumerProperties(kafka, options.Value)) config.Set(key, value);
        // Whatever the configuration says: this consumer must never move a group's offsets.
        config.GroupId = groupId;
        config.EnableAutoCommit = false;
        config.EnableAutoOffsetStore = false;
        return config;
    }

    /// <summary>Acknowledged by all in-sync replicas; <c>Kafka:ProducerProperties</c> (linger, compression...) win over these defaults.</summary>
    public ProducerConfig Producer()
    {
        var config = new ProducerConfig
        {
            BootstrapServers = kafka.BootstrapServers,
            Acks = Acks.All,
            LingerMs = 5,
            MessageTimeoutMs = (int)ProduceTimeout.TotalMilliseconds,
            // Partition and offset always come back; the timestamp is the only other field we read.
            DeliveryReportFields = "status,timestamp",
        };
        foreach (var (key, value) in options.Value.ForProducers()) config.Set(key, value);
        return config;
    }

    /// <summary>
    /// The consumer properties of the node, with <c>fetch.wait.max.ms</c> from <c>Kafka:FetchWait</c>
    /// (see <see cref="KafkaOptions.FetchWait"/>) unless the consumer properties set it themselves,
    /// and a 6 s group session with heartbeats every 2 s (librdkafka's defaults are 45 s and 3 s):
    /// when a node dies without leaving, its partitions go to the other replicas after this long
    /// (measured: all partitions consumed again 13 s after a <c>kill -9</c>, README "Run a cluster").
    /// The cost: a consumer whose heartbeats stall that long (a long GC pause, an overloaded host)
    /// is dropped from the group and its partitions move. 6 s is the least brokers accept by default
    /// (<c>group.min.session.timeout.ms</c>); set <c>Kafka:ConsumerProperties:session.timeout.ms</c> to change it.
    /// </summary>
    public static IReadOnlyDictionary<string, string> ConsumerProperties(KafkaEndpoint kafka, KafkaOptions options)
    {
        var properties = new Dictionary<string, string>(options.ForConsumers());
        // Incremental rebalancing: when a replica joins or leaves, only the partitions that move are
        // revoked; the others keep flowing. With the eager default every rebalance revokes every
        // partition of every replica, and brokers may refuse the commits made while it runs (the
        // embedded one does), so each one re-delivered what had completed since the last commit.
        properties.TryAdd("partition.assignment.strategy", "cooperative-sticky");
        properties.TryAdd("session.timeout.ms", "6000");
        properties.TryAdd("heartbeat.interval.ms", "2000");
        if (options.FetchWaitFor(kafka.Mode == KafkaMode.Embedded) is { } wait)
            properties.TryAdd("fetch.wait.max.ms", ((int)wait.TotalMilliseconds).ToString(System.Globalization.CultureInfo.InvariantCulture));
        return properties;
    }
}
