using Microsoft.Extensions.Options;
using Mlops.Stream.Host.Options;
using Mlops.Stream.Inference.Registry;
using Mlops.Stream.Inference.Registry.Mlflow;

namespace Mlops.Stream.Host.Models;

/// <summary>
/// Reads MLflow's registry state every <c>Registry:Mlflow:PollInterval</c>, so a promotion made in
/// MLflow (an alias moved, a stage changed) reaches every node within about that long: a change
/// wakes the <see cref="ReplicaKeeper"/> through the registry's watch, and the replicas swap as for
/// any alias change. While MLflow cannot be reached the node keeps its last state (nothing is
/// unloaded) and the polls back off, doubling from the poll interval up to <c>MaxBackoff</c>.
/// </summary>
public sealed class MlflowRegistryPoller(MlflowModelRegistry registry, IOptions<RegistryOptions> options, ILogger<MlflowRegistryPoller> logger)
    : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var settings = options.Value.Mlflow;
        var failures = 0;
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await registry.RefreshAsync(stoppingToken);
                if (failures > 0)
                    logger.LogInformation("MLflow at {TrackingUri} answers again after {Failures} failed poll(s); the registry state is current", settings.TrackingUri, failures);
                failures = 0;
            }
            catch (Exception e) when (e is not OperationCanceledException || !stoppingToken.IsCancellationRequested)
            {
                failures++;
                var retry = Backoff(failures, settings.PollInterval, settings.MaxBackoff);
                if (failures == 1)
                    logger.LogWarning("Cannot read the model registry from MLflow at {TrackingUri}: {Error}. Serving what this node has; retrying in {Retry}",
                        settings.TrackingUri, e is ModelRegistryException ? e.Message : e.ToString(), retry);
                else
                    logger.LogDebug("MLflow poll {Failures} failed: {Error}; retrying in {Retry}", failures, e.Message, retry);
            }
            await Task.Delay(Backoff(failures, settings.PollInterval, settings.MaxBackoff), stoppingToken);
        }
    }

    /// <summary>The wait before the next poll after <paramref name="failures"/> failed ones in a row: the interval, doubled per failure after the first, at most <paramref name="max"/>.</summary>
    public static TimeSpan Backoff(int failures, TimeSpan interval, TimeSpan max)
    {
        if (failures <= 1) return interval;
        var factor = Math.Pow(2, Math.Min(failures - 1, 30));
        return TimeSpan.FromTicks((long)Math.Min(interval.Ticks * factor, Math.Max(max.Ticks, interval.Ticks)));
    }
}
