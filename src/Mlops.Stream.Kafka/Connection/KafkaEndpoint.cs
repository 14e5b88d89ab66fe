using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Mlops.Stream.Kafka.Embedded;
using Mlops.Stream.Kafka.Topics;

namespace Mlops.Stream.Kafka.Connection;

/// <summary>Where the service's Kafka comes from.</summary>
public enum KafkaMode
{
    /// <summary>An in-process <see cref="EmbeddedKafka"/>: in memory only, for development and tests.</summary>
    Embedded,

    /// <summary>A broker the operator named.</summary>
    External,
}

/// <summary>
/// The Kafka cluster a process talks to and how to create topics on it. In embedded mode it owns
/// the <see cref="EmbeddedKafka"/> and stops it on <see cref="Dispose"/>; in external mode it owns nothing.
/// </summary>
public sealed class KafkaEndpoint : IDisposable
{
    private readonly EmbeddedKafka? _embedded;

    private KafkaEndpoint(KafkaMode mode, string bootstrapServers, ITopicCreator topicCreator, EmbeddedKafka? embedded,
        IReadOnlyDictionary<string, string>? clientProperties = null)
    {
        ClientProperties = clientProperties ?? new Dictionary<string, string>();
        Mode = mode;
        BootstrapServers = bootstrapServers;
        TopicCreator = topicCreator;
        _embedded = embedded;
    }

    public KafkaMode Mode { get; }

    /// <summary>What every Kafka client of this process uses as <c>bootstrap.servers</c>.</summary>
    public string BootstrapServers { get; }

    /// <summary>Creates topics the way this kind of cluster supports.</summary>
    public ITopicCreator TopicCreator { get; }

    /// <summary>librdkafka properties every client of this cluster needs (security settings).</summary>
    public IReadOnlyDictionary<string, string> ClientProperties { get; }

    /// <summary>A provisioner for this cluster: its metadata reads and topic creation use the client properties.</summary>
    public TopicProvisioner CreateProvisioner(ILogger? logger = null) =>
        new(BootstrapServers, TopicCreator, logger, properties: ClientProperties);

    /// <summary>An external cluster, reached at <paramref name="bootstrapServers"/>.</summary>
    public static KafkaEndpoint External(string bootstrapServers, IReadOnlyDictionary<string, string>? clientProperties = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(bootstrapServers);
        return new KafkaEndpoint(KafkaMode.External, bootstrapServers,
            new AdminClientTopicCreator(bootstrapServers, properties: clientProperties), null, clientProperties);
    }

    /// <summary>Starts an embedded cluster that lives until <see cref="Dispose"/>.</summary>
    public static KafkaEndpoint StartEmbedded(int brokerCount = 1, ILogger? logger = null)
    {
        var kafka = EmbeddedKafka.Start(brokerCount, logger ?? NullLogger.Instance);
        return new KafkaEndpoint(KafkaMode.Embedded, kafka.BootstrapServers, new EmbeddedTopicCreator(kafka), kafka);
    }

    /// <summary>Stops the embedded cluster, if this endpoint started one; its data is gone.</summary>
    public void Dispose() => _embedded?.Dispose();
}
