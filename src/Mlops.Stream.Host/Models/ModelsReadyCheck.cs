using Microsoft.Extensions.Diagnostics.HealthChecks;
using Mlops.Stream.Actors.Serving;
using Mlops.Stream.Http;
using Mlops.Stream.Inference.Gateway;

namespace Mlops.Stream.Host.Models;

/// <summary>
/// Readiness: every production model has a replica this node can reach that is loaded, warmed and
/// serving: its own replica, or one on another live node (see <see cref="Actors.Serving.ShardedInferenceGateway"/>).
/// A model with no such replica (loading, failed, between versions, all its nodes lost) makes the
/// node not ready, so a load balancer keeps traffic away until it can answer; losing one node of
/// several does not make the others unready.
/// </summary>
public sealed class ModelsReadyCheck(IInferenceGateway gateway) : IHealthCheck
{
    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        var models = await gateway.ListModelsAsync(cancellationToken);
        var unready = ModelReadiness.Unready(models);
        var serving = models.Count(m => m.ProductionVersion is not null);
        return unready.Count == 0
            ? HealthCheckResult.Healthy($"{serving} production model(s) serving")
            : HealthCheckResult.Unhealthy("Models not ready: " + string.Join(", ", unready));
    }
}
