using System.Runtime.InteropServices;
using Confluent.Kafka;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Mlops.Stream.Kafka.Embedded.Internal;

namespace Mlops.Stream.Kafka.Embedded;

/// <summary>
/// An in-process Kafka cluster: librdkafka's mock cluster, listening on loopback TCP ports and
/// speaking the Kafka protocol to any client, in this process or another one. It exists so tests
/// and a default run need no broker installed.
/// </summary>
/// <remarks>
/// It is a development and test broker, never a durable one: records live in memory only and each
/// partition keeps a bounded log (about 5 MiB or 100,000 message sets) whose oldest entries are
/// dropped without notice. It does not implement the CreateTopics admin call; create topics with
/// <see cref="CreateTopic"/>. This instance owns the mock cluster and the librdkafka handle it runs
/// on, and releases both in <see cref="Dispose"/>.
/// </remarks>
public sealed class EmbeddedKafka : IDisposable
{
    private const int ErrorBufferSize = 512;

    /// <summary>The mock's broker id meaning "every broker".</summary>
    private const int AllBrokers = -1;

    private readonly object _gate = new();
    private readonly ILogger _logger;
    private IntPtr _client;
    private IntPtr _cluster;

    private EmbeddedKafka(IntPtr client, IntPtr cluster, int brokerCount, string bootstrapServers, ILogger logger)
    {
        _client = client;
        _cluster = cluster;
        BrokerCount = brokerCount;
        BootstrapServers = bootstrapServers;
        _logger = logger;
    }

    /// <summary>Comma-separated <c>host:port</c> list of the mock brokers, all on loopback.</summary>
    public string BootstrapServers { get; }

    /// <summary>The number of brokers; their ids are 1..<see cref="BrokerCount"/>.</summary>
    public int BrokerCount { get; }

    /// <summary>Starts a mock cluster with <paramref name="brokerCount"/> brokers on free loopback ports.</summary>
    /// <exception cref="InvalidOperationException">librdkafka could not create the handle or the cluster.</exception>
    public static EmbeddedKafka Start(int brokerCount = 1, ILogger? logger = null)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(brokerCount, 1);
        logger ??= NullLogger.Instance;
        LibrdkafkaResolver.EnsureRegistered();

        var client = CreateHostHandle();
        var cluster = LibrdkafkaNative.MockClusterNew(client, brokerCount);
        if (cluster == IntPtr.Zero)
        {
            LibrdkafkaNative.KafkaDestroy(client);
            throw new InvalidOperationException(
                $"librdkafka could not start a mock cluster with {brokerCount} broker(s) (no free loopback port or out of memory).");
        }

        // Like Kafka's own broker, the mock waits 3 s before the first rebalance of a new group in case
        // more members join. A development broker answers at once, as single-node dev images are
        // configured to, so a consumer starts reading as soon as it subscribes.
        LibrdkafkaNative.MockGroupInitialRebalanceDelayMs(cluster, 0);

        var bootstrap = Marshal.PtrToStringUTF8(LibrdkafkaNative.MockClusterBootstraps(cluster)) ?? string.Empty;
        logger.LogWarning(
            "Embedded Kafka (librdkafka mock cluster, {BrokerCount} broker(s)) listening on {BootstrapServers}. " +
            "Data is kept in memory only and each partition keeps a bounded log (about 5 MiB or 100,000 message sets; " +
            "older records are dropped without notice). Use it for development and tests, never for data you need to keep.",
            brokerCount, bootstrap);
        return new EmbeddedKafka(client, cluster, brokerCount, bootstrap, logger);
    }

    /// <summary>Creates every declared topic (see <see cref="CreateTopic"/>).</summary>
    public void CreateTopics(IEnumerable<Topics.TopicDeclaration> topics)
    {
        foreach (var topic in topics) CreateTopic(topic.Name, topic.Partitions);
    }

    /// <summary>
    /// Creates a topic on the mock cluster. The mock cluster has no CreateTopics admin call, so this is
    /// the way to get a topic with a chosen partition count (auto-created topics get the mock's default).
    /// </summary>
    /// <exception cref="InvalidOperationException">The mock cluster refused, e.g. the topic already exists.</exception>
    public void CreateTopic(string name, int partitions, int replicationFactor = 1)
    {
        var err = TryCreateTopic(name, partitions, replicationFactor);
        if (err != ErrorCode.NoError)
        {
            throw new InvalidOperationException(
                $"Embedded Kafka could not create topic '{name}' with {partitions} partition(s) and replication factor " +
                $"{replicationFactor}: {LibrdkafkaNative.DescribeError((int)err)} ({err}).");
        }
    }

    /// <summary>
    /// <see cref="CreateTopic"/> that returns librdkafka's error code instead of throwing it, so a
    /// provisioner can tell "already exists" from a real failure. Argument errors still throw.
    /// </summary>
    internal ErrorCode TryCreateTopic(string name, int partitions, int replicationFactor = 1)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        ArgumentOutOfRangeException.ThrowIfLessThan(partitions, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(replicationFactor, 1);
        if (replicationFactor > BrokerCount)
        {
            throw new ArgumentOutOfRangeException(nameof(replicationFactor),
                $"Replication factor {replicationFactor} exceeds the {BrokerCount} broker(s) of the embedded cluster.");
        }

        int err;
        lock (_gate)
        {
            err = LibrdkafkaNative.MockTopicCreate(LiveCluster(), name, partitions, replicationFactor);
        }
        // rd_kafka_resp_err_t and Confluent.Kafka's ErrorCode share their values.
        var code = (ErrorCode)err;
        if (code == ErrorCode.NoError)
        {
            _logger.LogDebug("Embedded Kafka created topic {Topic} with {Partitions} partition(s)", name, partitions);
        }
        return code;
    }

    /// <summary>
    /// Takes a broker down: it closes its connections and refuses new ones until
    /// <see cref="SetBrokerUp"/>, so requests to it stay unanswered (a fault-injection hook).
    /// </summary>
    public void SetBrokerDown(int brokerId) => SetBrokerState(brokerId, up: false);

    /// <summary>Brings a broker taken down by <see cref="SetBrokerDown"/> back.</summary>
    public void SetBrokerUp(int brokerId) => SetBrokerState(brokerId, up: true);

    /// <summary>
    /// The next requests of one kind, whichever client and broker they come from, are answered with
    /// <paramref name="errors"/> in order, one error per request (a fault-injection hook). A produce
    /// request carries a whole batch, so every record in it gets the error.
    /// </summary>
    public void PushRequestErrors(KafkaApi api, params ErrorCode[] errors)
    {
        if (errors.Length == 0) return;
        lock (_gate)
        {
            LibrdkafkaNative.MockPushRequestErrorsArray(LiveCluster(), (short)api, (nuint)errors.Length, [.. errors.Select(e => (int)e)]);
        }
        _logger.LogInformation("Embedded Kafka answers the next {Count} {Api} request(s) with {Errors}", errors.Length, api, string.Join(", ", errors));
    }

    /// <summary>Forgets the errors <see cref="PushRequestErrors"/> left for <paramref name="api"/> that no request has met yet.</summary>
    public void ClearRequestErrors(KafkaApi api)
    {
        lock (_gate)
        {
            LibrdkafkaNative.MockClearRequestErrors(LiveCluster(), (short)api);
        }
        _logger.LogInformation("Embedded Kafka answers {Api} requests normally again", api);
    }

    /// <summary>
    /// Delays every answer of broker <paramref name="brokerId"/> (every broker when null) by
    /// <paramref name="rtt"/>, as a slow network or a loaded broker would; <see cref="TimeSpan.Zero"/>
    /// removes the delay (a fault-injection hook).
    /// </summary>
    public void SetBrokerRtt(TimeSpan rtt, int? brokerId = null)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(rtt, TimeSpan.Zero);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(rtt, TimeSpan.FromMilliseconds(int.MaxValue));
        var target = brokerId is { } id ? CheckBroker(id) : AllBrokers;
        lock (_gate)
        {
            ThrowOnError(LibrdkafkaNative.MockBrokerSetRtt(LiveCluster(), target, (int)rtt.TotalMilliseconds),
                $"set the round-trip time of broker {(brokerId?.ToString() ?? "(all)")} to {rtt.TotalMilliseconds} ms");
        }
        _logger.LogInformation("Embedded Kafka broker {BrokerId} answers after {RttMs} ms", brokerId?.ToString() ?? "(all)", rtt.TotalMilliseconds);
    }

    /// <summary>
    /// Moves the leadership of one partition to broker <paramref name="brokerId"/>: clients still
    /// sending to the old leader are told NOT_LEADER_OR_FOLLOWER and must find the new one (a
    /// fault-injection hook). The partition's records stay as they are.
    /// </summary>
    public void SetPartitionLeader(string topic, int partition, int brokerId)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(topic);
        ArgumentOutOfRangeException.ThrowIfNegative(partition);
        CheckBroker(brokerId);
        lock (_gate)
        {
            ThrowOnError(LibrdkafkaNative.MockPartitionSetLeader(LiveCluster(), topic, partition, brokerId),
                $"make broker {brokerId} the leader of {topic} [{partition}]");
        }
        _logger.LogInformation("Embedded Kafka broker {BrokerId} leads {Topic} [{Partition}]", brokerId, topic, partition);
    }

    /// <summary>Destroys the mock cluster, then the handle it runs on. Safe to call more than once.</summary>
    public void Dispose()
    {
        IntPtr cluster, client;
        lock (_gate)
        {
            cluster = _cluster;
            client = _client;
            _cluster = IntPtr.Zero;
            _client = IntPtr.Zero;
        }
        if (cluster == IntPtr.Zero) return;

        // The cluster runs on the handle's resources, so it must go first.
        LibrdkafkaNative.MockClusterDestroy(cluster);
        LibrdkafkaNative.KafkaDestroy(client);
        _logger.LogInformation("Embedded Kafka on {BootstrapServers} stopped; its data is gone", BootstrapServers);
    }

    private void SetBrokerState(int brokerId, bool up)
    {
        CheckBroker(brokerId);
        lock (_gate)
        {
            ThrowOnError(up
                ? LibrdkafkaNative.MockBrokerSetUp(LiveCluster(), brokerId)
                : LibrdkafkaNative.MockBrokerSetDown(LiveCluster(), brokerId), $"set broker {brokerId} {(up ? "up" : "down")}");
        }
        _logger.LogInformation("Embedded Kafka broker {BrokerId} is {State}", brokerId, up ? "up" : "down");
    }

    private int CheckBroker(int brokerId) => brokerId >= 1 && brokerId <= BrokerCount
        ? brokerId
        : throw new ArgumentOutOfRangeException(nameof(brokerId), $"Broker id {brokerId} is not in 1..{BrokerCount}.");

    private static void ThrowOnError(int err, string what)
    {
        if (err != 0)
            throw new InvalidOperationException($"Embedded Kafka could not {what}: {LibrdkafkaNative.DescribeError(err)} (code {err}).");
    }

    private IntPtr LiveCluster() =>
        _cluster != IntPtr.Zero ? _cluster : throw new ObjectDisposedException(nameof(EmbeddedKafka));

    /// <summary>
    /// The mock cluster needs an <c>rd_kafka_t</c> to run on. A producer handle with no bootstrap
    /// servers never connects anywhere; it only lends the cluster its threads and timers.
    /// </summary>
    private static IntPtr CreateHostHandle()
    {
        var errstr = new byte[ErrorBufferSize];
        var conf = LibrdkafkaNative.ConfNew();
        // Without bootstrap servers the handle would log a warning about it once; it is expected here.
        if (LibrdkafkaNative.ConfSet(conf, "log_level", "3", errstr, ErrorBufferSize) != LibrdkafkaNative.ConfOk)
        {
            LibrdkafkaNative.ConfDestroy(conf);
            throw new InvalidOperationException(
                "librdkafka rejected log_level for the embedded Kafka handle: " + LibrdkafkaNative.ReadErrorBuffer(errstr));
        }

        var client = LibrdkafkaNative.KafkaNew(LibrdkafkaNative.RdKafkaProducer, conf, errstr, ErrorBufferSize);
        if (client == IntPtr.Zero)
        {
            // rd_kafka_new hands the configuration back to the caller when it fails.
            LibrdkafkaNative.ConfDestroy(conf);
            throw new InvalidOperationException(
                "librdkafka could not create the handle for the embedded Kafka cluster: " + LibrdkafkaNative.ReadErrorBuffer(errstr));
        }
        return client;
    }
}
