using Mlops.Stream.Actors.Metrics;
using Mlops.Stream.Inference.Registry;
using Prometheus;

namespace Mlops.Stream.Host.Metrics;

/// <summary>
/// Whether the model registry's backend (MLflow) answers, sampled at each scrape:
/// <c>mlops_registry_reachable</c> (1 or 0), <c>mlops_registry_errors_total</c> (failed calls since
/// start) and <c>mlops_registry_last_success_timestamp_seconds</c>, each labelled with the backend.
/// </summary>
public sealed class RegistryMetrics(ServingMetrics metrics, IRegistryReachability registry) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken)
    {
        var factory = Prometheus.Metrics.WithCustomRegistry(metrics.Registry);
        var reachable = factory.CreateGauge("mlops_registry_reachable", "1 while the model registry's backend answers, 0 while it cannot be reached.", "backend");
        var errors = factory.CreateCounter("mlops_registry_errors_total", "Calls to the model registry's backend that failed (unreachable, timed out, 5xx).", "backend");
        var lastSuccess = factory.CreateGauge("mlops_registry_last_success_timestamp_seconds", "When the model registry's backend last answered (Unix time).", "backend");
        metrics.Registry.AddBeforeCollectCallback(() =>
        {
            var state = registry.Reachability;
            reachable.WithLabels(state.Backend).Set(state.Reachable ? 1 : 0);
            errors.WithLabels(state.Backend).IncTo(state.Errors);
            if (state.LastSuccess is { } at) lastSuccess.WithLabels(state.Backend).Set(at.ToUnixTimeMilliseconds() / 1000.0);
        });
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
