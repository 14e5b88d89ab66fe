using Confluent.Kafka;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Mlops.Stream.Kafka.Topics;

/// <summary>
/// Makes sure declared topics exist: reads the cluster's metadata, creates what is missing through
/// an <see cref="ITopicCreator"/>, and reports topics that exist with fewer partitions than declared
/// (with a warning) instead of using them as if they were right. Safe to run at every start.
/// </summary>
public sealed class TopicProvisioner
{
    private static readonly TimeSpan DefaultMetadataTimeout = TimeSpan.FromSeconds(10);

    private readonly string _bootstrapServers;
    private readonly ITopicCreator _creator;
    private readonly ILogger _logger;
    private readonly TimeSpan _metadataTimeout;
    private readonly IReadOnlyDictionary<string, string>? _properties;

    /// <param name="bootstrapServers">The cluster to read metadata from; the creator must target the same one.</param>
    /// <param name="creator">Creates missing topics on that cluster.</param>
    /// <param name="logger">Receives one line per created topic and a warning per mismatch.</param>
    /// <param name="metadataTimeout">How long to wait for metadata; 10 s unless given.</param>
    /// <param name="properties">Client properties of the cluster (security settings), passed to the metadata client.</param>
    public TopicProvisioner(string bootstrapServers, ITopicCreator creator, ILogger? logger = null, TimeSpan? metadataTimeout = null,
        IReadOnlyDictionary<string, string>? properties = null)
    {
        _properties = properties;
        ArgumentException.ThrowIfNullOrWhiteSpace(bootstrapServers);
        _bootstrapServers = bootstrapServers;
        _creator = creator;
        _logger = logger ?? NullLogger.Instance;
        _metadataTimeout = metadataTimeout ?? DefaultMetadataTimeout;
    }

    /// <summary>Ensures every topic in <paramref name="topics"/> exists.</summary>
    /// <exception cref="ArgumentException">The same topic is declared twice with different settings.</exception>
    /// <exception cref="InvalidOperationException">Metadata could not be read or a topic could not be created.</exception>
    public async Task<ProvisioningReport> EnsureAsync(IEnumerable<TopicDeclaration> topics, CancellationToken cancellationToken = default)
    {
        var declared = Distinct(topics);
        var actual = await ReadPartitionCountsAsync(cancellationToken).ConfigureAwait(false);

        var missing = declared.Where(t => !actual.ContainsKey(t.Name)).ToList();
        var created = missing.Count == 0
            ? []
            : (await _creator.CreateAsync(missing, cancellationToken).ConfigureAwait(false)).ToHashSet(StringComparer.Ordinal);

        // A missing topic the creator did not create was created by someone else meanwhile: look again
        // so it is judged by its real partition count like any other existing topic.
        if (missing.Any(t => !created.Contains(t.Name)))
        {
            actual = await ReadPartitionCountsAsync(cancellationToken).ConfigureAwait(false);
        }

        var existing = new List<string>();
        var mismatched = new List<PartitionMismatch>();
        foreach (var topic in declared)
        {
            if (created.Contains(topic.Name))
            {
                _logger.LogInformation("Created topic {Topic} with {Partitions} partition(s)", topic.Name, topic.Partitions);
                continue;
            }

            if (!actual.TryGetValue(topic.Name, out var partitions))
            {
                throw new InvalidOperationException(
                    $"Topic '{topic.Name}' was neither created nor found on Kafka at {_bootstrapServers}.");
            }

            if (partitions < topic.Partitions)
            {
                _logger.LogWarning(
                    "Topic {Topic} exists with {Actual} partition(s) but {Declared} are declared; it is used as is, which " +
                    "caps its parallelism at {Actual} consumer(s). Add partitions on the broker if that is not intended",
                    topic.Name, partitions, topic.Partitions, partitions);
                mismatched.Add(new PartitionMismatch(topic.Name, topic.Partitions, partitions));
            }
            else
            {
                existing.Add(topic.Name);
            }
        }

        return new ProvisioningReport(
            declared.Where(t => created.Contains(t.Name)).Select(t => t.Name).ToList(), existing, mismatched);
    }

    private static List<TopicDeclaration> Distinct(IEnumerable<TopicDeclaration> topics)
    {
        var byName = new Dictionary<string, TopicDeclaration>(StringComparer.Ordinal);
        var ordered = new List<TopicDeclaration>();
        foreach (var topic in topics)
        {
            if (byName.TryGetValue(topic.Name, out var earlier))
            {
                if (earlier != topic)
                {
                    throw new ArgumentException($"Topic '{topic.Name}' is declared twice with different settings: {earlier} and {topic}.");
                }
                continue;
            }
            byName.Add(topic.Name, topic);
            ordered.Add(topic);
        }
        return ordered;
    }

    /// <summary>
    /// Partition counts of all topics. It asks for ALL topics on purpose: a metadata request naming a
    /// topic makes brokers with auto-creation on (the embedded mock cluster always, with 4 partitions)
    /// create it, which would turn "missing" into "exists with the wrong partition count".
    /// </summary>
    private Task<Dictionary<string, int>> ReadPartitionCountsAsync(CancellationToken cancellationToken) =>
        Task.Run(() =>
        {
            using var admin = new AdminClientBuilder(AdminConfigs.For(_bootstrapServers, _properties)).SetLogHandler((_, message) => LibrdkafkaLog.Write(message)).Build();
            Metadata metadata;
            try
            {
                metadata = admin.GetMetadata(_metadataTimeout);
            }
            catch (KafkaException e)
            {
                throw new InvalidOperationException(
                    $"Could not read topic metadata from Kafka at {_bootstrapServers} within {_metadataTimeout.TotalSeconds:0.#} s: {e.Error.Reason}.", e);
            }
            return metadata.Topics
                .Where(t => t.Error.Code != ErrorCode.UnknownTopicOrPart)
                .ToDictionary(t => t.Topic, t => t.Partitions.Count, StringComparer.Ordinal);
        }, cancellationToken);
}
