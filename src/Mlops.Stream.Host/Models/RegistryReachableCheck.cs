using System.Globalization;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Mlops.Stream.Inference.Registry;

namespace Mlops.Stream.Host.Models;

/// <summary>
/// Readiness of a registry whose state lives elsewhere (MLflow): healthy while it answers;
/// <b>degraded</b> (still ready: 200) while it cannot be reached but the node has its last state and
/// serves from it, saying since when and why; unhealthy only when the node never read the registry,
/// so it has nothing to serve from.
/// </summary>
public sealed class RegistryReachableCheck(IRegistryReachability registry) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        var state = registry.Reachability;
        var data = new Dictionary<string, object>
        {
            ["backend"] = state.Backend,
            ["endpoint"] = state.Endpoint,
            ["reachable"] = state.Reachable,
            ["errors"] = state.Errors,
        };
        var result = (state.Reachable, state.HasState) switch
        {
            (_, false) => HealthCheckResult.Unhealthy(
                $"The model registry ({state.Backend} at {state.Endpoint}) has not been read yet" + (state.LastError is null ? "" : $": {state.LastError}"), data: data),
            (true, true) => HealthCheckResult.Healthy($"{state.Backend} at {state.Endpoint} answers (last answer {Time(state.LastSuccess)})", data),
            (false, true) => HealthCheckResult.Degraded(
                $"{state.Backend} at {state.Endpoint} unreachable since {Time(state.UnreachableSince)} ({state.Errors} failed call(s) in all; last: {state.LastError}); " +
                $"serving the registry state last read and the versions cached on this node (last answer {Time(state.LastSuccess)})", data: data),
        };
        return Task.FromResult(result);
    }

    private static string Time(DateTimeOffset? at) => at?.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture) ?? "never";
}
