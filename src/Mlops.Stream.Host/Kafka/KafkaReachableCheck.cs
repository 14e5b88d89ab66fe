using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Options;
using Mlops.Stream.Host.Options;
using Mlops.Stream.Http;

namespace Mlops.Stream.Host.Kafka;

/// <summary>
/// Readiness: Kafka answers a metadata request within <see cref="KafkaOptions.HealthCheckTimeout"/>,
/// asked through the node's one admin client (<see cref="KafkaAdminReader"/>, built with
/// <c>Kafka:ClientProperties</c>, so a secured cluster answers too). Kafka not answering is
/// Degraded, not Unhealthy: the models still serve HTTP and gRPC, so a load balancer should keep
/// sending to the node; the Kafka path resumes by itself when the broker answers.
/// </summary>
public sealed class KafkaReachableCheck(KafkaAdminReader broker, IOptions<KafkaOptions> options) : IHealthCheck
{
    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        try
        {
            var metadata = await broker.MetadataAsync(options.Value.HealthCheckTimeout, cancellationToken);
            return metadata.Brokers.Count > 0
                ? HealthCheckResult.Healthy($"{metadata.Brokers.Count} broker(s) answered")
                : HealthCheckResult.Degraded("Kafka answered with no brokers");
        }
        catch (BrokerUnavailableException e)
        {
            return HealthCheckResult.Degraded(e.Message + " (serving HTTP and gRPC; the Kafka path resumes when it answers)");
        }
    }
}
