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

    /// <summary>How long the readiness check waits for a metadata answer before calling Kafka unreachable.</summary>
    public TimeSpan HealthCheckTimeout { get; set; } = TimeSpan.FromSeconds(2);

    public bool IsEmbedded => string.IsNullOrWhiteSpace(BootstrapServers);
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
