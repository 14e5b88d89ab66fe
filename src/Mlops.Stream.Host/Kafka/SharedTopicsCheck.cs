using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Mlops.Stream.Host.Kafka;

/// <summary>
/// Readiness: the shared topics exist. Degraded (still ready) when one has fewer partitions than
/// declared, since it works but below the parallelism it was sized for, and while they could not be
/// made sure of yet (Kafka does not answer: inference is served meanwhile; an audit event that
/// cannot be written is logged and kept in the node's own recent list).
/// </summary>
public sealed class SharedTopicsCheck(SharedTopicsState state) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        var report = state.Report;
        var result = report switch
        {
            null => HealthCheckResult.Degraded($"Shared topics are not provisioned: {state.Problem}"),
            { AllSatisfied: false } => HealthCheckResult.Degraded(
                "Fewer partitions than declared: " +
                string.Join(", ", report.Mismatched.Select(m => $"{m.Topic} has {m.ActualPartitions} of {m.DeclaredPartitions}"))),
            _ => HealthCheckResult.Healthy("Shared topics exist"),
        };
        return Task.FromResult(result);
    }
}
