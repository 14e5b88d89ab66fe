using Microsoft.Extensions.Diagnostics.HealthChecks;
using Mlops.Stream.Kafka;

namespace Mlops.Stream.Host.Kafka;

/// <summary>
/// Readiness: no Kafka client of this node (stream consumers, producers) currently reports the
/// broker unreachable. Complements <see cref="KafkaReachableCheck"/>, which asks the broker
/// directly: this one says which stream is waiting and since when. Degraded, like that check: an
/// outage pauses the Kafka path, not inference.
/// </summary>
public sealed class KafkaClientsCheck(KafkaHealthMonitor monitor) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        var outages = monitor.Outages;
        return Task.FromResult(outages.Count == 0
            ? HealthCheckResult.Healthy("Every Kafka client reaches its broker")
            : HealthCheckResult.Degraded(string.Join("; ", outages.Select(o =>
                $"{o.Client} cannot reach Kafka since {o.Since:O}: {o.Reason}"))));
    }
}
