using Microsoft.Extensions.Options;

namespace Mlops.Stream.Host.Options;

/// <summary>Section <c>Kafka</c>: which cluster the node uses.</summary>
public sealed class KafkaOptions
{
    public const string Section = "Kafka";

    /// <summary>
    /// <c>host:port[,host:port…]</c> of an external cluster. Empty starts an embedded in-memory
    /// cluster, for development only.
    /// </summary>
    public string BootstrapServers { get; set; } = string.Empty;

    /// <summary>Brokers of the embedded cluster, when <see cref="BootstrapServers"/> is empty.</summary>
    public int EmbeddedBrokerCount { get; set; } = 1;

    /// <summary>
    /// How long a consumer's fetch may wait at the broker for records (<c>fetch.wait.max.ms</c>):
    /// <c>auto</c>, or a time from 0 to 00:00:10. Auto is 5 ms on the embedded broker (the librdkafka
    /// mock answers a fetch only when the wait runs out, so a longer wait is added to every record)
    /// and librdkafka's own 500 ms on an external cluster (a real broker answers as soon as records
    /// arrive; a short wait only adds idle fetches). Set a short wait when pointing a node at
    /// another node's embedded broker. A <c>fetch.wait.max.ms</c> in ConsumerProperties wins.
    /// </summary>
    public string FetchWait { get; set; } = Auto;

    public const string Auto = "auto";

    /// <summary>The fetch wait to set, or null for librdkafka's default.</summary>
    public TimeSpan? FetchWaitFor(bool embeddedBroker) =>
        string.Equals(FetchWait, Auto, StringComparison.OrdinalIgnoreCase)
            ? (embeddedBroker ? TimeSpan.FromMilliseconds(5) : null)
            : TimeSpan.Parse(FetchWait, System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>How long the readiness check waits for a metadata answer before calling Kafka unreachable.</summary>
    public TimeSpan HealthCheckTimeout { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>
    /// librdkafka properties for every client of the node (security: <c>security.protocol</c>,
    /// <c>sasl.mechanism</c>, <c>ssl.ca.location</c>…), passed through as they are.
    /// </summary>
    public Dictionary<string, string> ClientProperties { get; set; } = new();

    /// <summary>librdkafka properties for consumers only (e.g. <c>session.timeout.ms</c>); they win over <see cref="ClientProperties"/>.</summary>
    public Dictionary<string, string> ConsumerProperties { get; set; } = new();

    /// <summary>librdkafka properties for producers only (e.g. <c>linger.ms</c>, <c>compression.type</c>); they win over <see cref="ClientProperties"/>.</summary>
    public Dictionary<string, string> ProducerProperties { get; set; } = new();

    public bool IsEmbedded => string.IsNullOrWhiteSpace(BootstrapServers);

    public const string AtLeastOnce = "at-least-once";
    public const string ExactlyOnce = "exactly-once";

    /// <summary>
    /// <c>at-least-once</c> (default): outputs first, then the offset; a crash in between answers a
    /// request again, and <c>mlops_kafka_duplicates_total</c> counts it. <c>exactly-once</c>: each
    /// replica writes its outputs and commits its offsets in Kafka transactions, so a
    /// <c>read_committed</c> reader sees each request answered once. Needs a real broker (Kafka 2.5+):
    /// the embedded one keeps neither transactional offsets nor aborted-record markers.
    /// </summary>
    public string Delivery { get; set; } = AtLeastOnce;

    public bool IsExactlyOnce => string.Equals(Delivery, ExactlyOnce, StringComparison.OrdinalIgnoreCase);

    public IReadOnlyDictionary<string, string> ForConsumers() => Merge(ClientProperties, ConsumerProperties);

    public IReadOnlyDictionary<string, string> ForProducers() => Merge(ClientProperties, ProducerProperties);

    private static Dictionary<string, string> Merge(Dictionary<string, string> common, Dictionary<string, string> specific)
    {
        var merged = new Dictionary<string, string>(common);
        foreach (var (key, value) in specific) merged[key] = value;
        return merged;
    }
}

/// <summary>Checks <see cref="KafkaOptions"/> at start; every message names the configuration key.</summary>
public sealed class KafkaOptionsValidator : IValidateOptions<KafkaOptions>
{
    public ValidateOptionsResult Validate(string? name, KafkaOptions options)
    {
        var failures = new List<string>();
        if (!options.IsEmbedded)
        {
            foreach (var server in options.BootstrapServers.Split(',', StringSplitOptions.TrimEntries))
            {
                if (!IsHostAndPort(server))
                {
                    failures.Add(
                        $"{KafkaOptions.Section}:{nameof(KafkaOptions.BootstrapServers)} must be a comma-separated list of host:port " +
                        $"(found '{server}' in '{options.BootstrapServers}'); leave it empty for the embedded development cluster.");
                }
            }
        }
        if (options.EmbeddedBrokerCount is < 1 or > 16)
        {
            failures.Add($"{KafkaOptions.Section}:{nameof(KafkaOptions.EmbeddedBrokerCount)} must be from 1 to 16 (found {options.EmbeddedBrokerCount}).");
        }
        if (options.HealthCheckTimeout <= TimeSpan.Zero || options.HealthCheckTimeout > TimeSpan.FromMinutes(1))
        {
            failures.Add($"{KafkaOptions.Section}:{nameof(KafkaOptions.HealthCheckTimeout)} must be above 0 and at most 00:01:00 (found {options.HealthCheckTimeout}).");
        }
        if (!string.Equals(options.FetchWait, KafkaOptions.Auto, StringComparison.OrdinalIgnoreCase)
            && !(TimeSpan.TryParse(options.FetchWait, System.Globalization.CultureInfo.InvariantCulture, out var wait) && wait >= TimeSpan.Zero && wait <= TimeSpan.FromSeconds(10)))
        {
            failures.Add($"{KafkaOptions.Section}:{nameof(KafkaOptions.FetchWait)} must be 'auto' or a time from 00:00:00 to 00:00:10 (found '{options.FetchWait}').");
        }
        if (!options.IsExactlyOnce && !string.Equals(options.Delivery, KafkaOptions.AtLeastOnce, StringComparison.OrdinalIgnoreCase))
        {
            failures.Add($"{KafkaOptions.Section}:{nameof(KafkaOptions.Delivery)} must be '{KafkaOptions.AtLeastOnce}' or '{KafkaOptions.ExactlyOnce}' (found '{options.Delivery}').");
        }
        else if (options.IsExactlyOnce && options.IsEmbedded)
        {
            // librdkafka's mock cluster accepts transactions but drops offsets committed in them and
            // shows aborted records to read_committed readers: exactly-once would silently not hold.
            failures.Add($"{KafkaOptions.Section}:{nameof(KafkaOptions.Delivery)} {KafkaOptions.ExactlyOnce} needs a real Kafka cluster (2.5 or later) in " +
                $"{KafkaOptions.Section}:{nameof(KafkaOptions.BootstrapServers)}: the embedded development broker does not keep offsets committed in " +
                "transactions nor hide aborted records, so it cannot give exactly-once.");
        }
        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }

    // librdkafka also accepts a protocol prefix (PLAINTEXT://host:port), as Testcontainers hands out.
    private static bool IsHostAndPort(string server)
    {
        var hostPort = server.Contains("://", StringComparison.Ordinal) ? server[(server.IndexOf("://", StringComparison.Ordinal) + 3)..].TrimEnd('/') : server;
        var colon = hostPort.LastIndexOf(':');
        return colon > 0 && int.TryParse(hostPort[(colon + 1)..], out var port) && port is > 0 and <= 65535;
    }
}
