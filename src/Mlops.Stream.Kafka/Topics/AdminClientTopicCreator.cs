using Confluent.Kafka;
using Confluent.Kafka.Admin;

namespace Mlops.Stream.Kafka.Topics;

/// <summary>
/// Creates topics with Kafka's CreateTopics admin call, including <c>retention.ms</c> and
/// <c>cleanup.policy</c>. For real brokers; the embedded mock cluster never answers this call
/// (the request times out), so use <see cref="EmbeddedTopicCreator"/> there.
/// </summary>
public sealed class AdminClientTopicCreator : ITopicCreator
{
    /// <summary>Lets the broker apply its <c>default.replication.factor</c>.</summary>
    public const short BrokerDefaultReplicationFactor = -1;

    private readonly string _bootstrapServers;
    private readonly short _replicationFactor;
    private readonly TimeSpan _timeout;
    private readonly IReadOnlyDictionary<string, string>? _properties;

    /// <param name="bootstrapServers">The cluster to create topics on.</param>
    /// <param name="replicationFactor">Replicas per partition; the broker's default unless given.</param>
    /// <param name="timeout">How long the broker may take; 30 s unless given.</param>
    /// <param name="properties">Client properties of the cluster (security settings), passed to the admin client.</param>
    public AdminClientTopicCreator(string bootstrapServers, short replicationFactor = BrokerDefaultReplicationFactor, TimeSpan? timeout = null,
        IReadOnlyDictionary<string, string>? properties = null)
    {
        _properties = properties;
        ArgumentException.ThrowIfNullOrWhiteSpace(bootstrapServers);
        _bootstrapServers = bootstrapServers;
        _replicationFactor = replicationFactor;
        _timeout = timeout ?? TimeSpan.FromSeconds(30);
    }

    public async Task<IReadOnlyCollection<string>> CreateAsync(
        IReadOnlyCollection<TopicDeclaration> topics, CancellationToken cancellationToken = default)
    {
        if (topics.Count == 0) return [];
        using var admin = new AdminClientBuilder(AdminConfigs.For(_bootstrapServers, _properties)).SetLogHandler((_, message) => LibrdkafkaLog.Write(message)).Build();
        var specifications = topics.Select(t => new TopicSpecification
        {
            Name = t.Name,
            NumPartitions = t.Partitions,
            ReplicationFactor = _replicationFactor,
            Configs = TopicConfigs(t),
        }).ToList();

        try
        {
            await admin.CreateTopicsAsync(specifications, new CreateTopicsOptions
            {
                RequestTimeout = _timeout,
                OperationTimeout = _timeout,
            }).WaitAsync(cancellationToken).ConfigureAwait(false);
            return topics.Select(t => t.Name).ToList();
        }
        catch (CreateTopicsException e)
        {
            var failed = e.Results
                .Where(r => r.Error.IsError && r.Error.Code != ErrorCode.TopicAlreadyExists)
                .Select(r => $"'{r.Topic}': {r.Error.Reason} ({r.Error.Code})")
                .ToList();
            if (failed.Count > 0)
            {
                throw new InvalidOperationException(
                    $"Kafka at {_bootstrapServers} refused to create topic(s) {string.Join("; ", failed)}.", e);
            }
            return e.Results.Where(r => !r.Error.IsError).Select(r => r.Topic).ToList();
        }
        catch (KafkaException e)
        {
            throw new InvalidOperationException(
                $"Could not create topic(s) {string.Join(", ", topics.Select(t => t.Name))} on Kafka at {_bootstrapServers}: {e.Error.Reason}.", e);
        }
    }

    // Only what the declaration sets: anything left out keeps the broker's default.
    private static Dictionary<string, string> TopicConfigs(TopicDeclaration topic)
    {
        var configs = new Dictionary<string, string>();
        if (topic.RetentionMs is { } retention) configs["retention.ms"] = retention.ToString(System.Globalization.CultureInfo.InvariantCulture);
        if (topic.CleanupPolicy is { } cleanup) configs["cleanup.policy"] = cleanup;
        return configs;
    }
}
