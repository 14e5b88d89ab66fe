using Confluent.Kafka;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Options;
using Mlops.Stream.Host.Options;
using Mlops.Stream.Kafka.Connection;

namespace Mlops.Stream.Host.Kafka;

/// <summary>
/// Readiness: Kafka answers a metadata request within <see cref="KafkaOptions.HealthCheckTimeout"/>.
/// One admin client is kept for the node's lifetime so a probe costs a request, not a new connection.
/// </summary>
public sealed class KafkaReachableCheck : IHealthCheck, IDisposable
{
    private readonly Lazy<IAdminClient> _admin;
    private readonly TimeSpan _timeout;

    public KafkaReachableCheck(KafkaEndpoint kafka, IOptions<KafkaOptions> options, ILogger<KafkaReachableCheck> logger)
    {
        _timeout = options.Value.HealthCheckTimeout;
        // Kafka:ClientProperties carry the cluster's security settings (SASL/SSL); without them a
        // secured cluster would never answer this check.
        var properties = new Dictionary<string, string>(options.Value.ClientProperties);
        _admin = new Lazy<IAdminClient>(() => new AdminClientBuilder(new AdminClientConfig(properties) { BootstrapServers = kafka.BootstrapServers })
            // librdkafka reports every failed reconnect; the check's result already says Kafka is down,
            // so these go to Debug instead of flooding the console.
            .SetLogHandler((_, message) => logger.LogDebug("librdkafka {Facility}: {Message}", message.Facility, message.Message))
            .SetErrorHandler((_, error) => logger.LogDebug("librdkafka error {Code}: {Reason}", error.Code, error.Reason))
            .Build());
    }

    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default) =>
        Task.Run(() =>
        {
            try
            {
                // All topics: naming one could auto-create it. The answer lists brokers either way.
                var metadata = _admin.Value.GetMetadata(_timeout);
                return metadata.Brokers.Count > 0
                    ? HealthCheckResult.Healthy($"{metadata.Brokers.Count} broker(s) answered")
                    : HealthCheckResult.Unhealthy("Kafka answered with no brokers");
            }
            catch (KafkaException e)
            {
                return HealthCheckResult.Unhealthy($"Kafka did not answer a metadata request within {_timeout}: {e.Error.Reason}");
            }
        }, cancellationToken);

    public void Dispose()
    {
        if (_admin.IsValueCreated) _admin.Value.Dispose();
    }
}
