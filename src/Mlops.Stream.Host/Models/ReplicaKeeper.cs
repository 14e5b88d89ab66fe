using Akka.Actor;
using Akka.Hosting;
using Mlops.Stream.Actors.Serving;
using Mlops.Stream.Inference.Registry;

namespace Mlops.Stream.Host.Models;

/// <summary>
/// Drives every replica to what the registry's aliases say: a replica runs for every model with a
/// production alias, started at host start (serving begins without waiting for a first message),
/// and is told its target version again every few seconds and whenever the registry reports an
/// alias change (its events are fast, the periodic pass makes sure nothing is missed). A replica that
/// stopped is started again by the next pass.
/// </summary>
public sealed class ReplicaKeeper(
    IRequiredActor<ModelReplica> replicas, ServedModels served, IModelRegistry registry, ILogger<ReplicaKeeper> logger) : BackgroundService
{
    private static readonly TimeSpan Interval = TimeSpan.FromSeconds(5);
    private readonly SemaphoreSlim _changed = new(0, 1);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var region = await replicas.GetAsync(stoppingToken);
        using var watch = registry.WatchAliases(Signal);
        var running = new HashSet<string>();
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                var targets = await served.RefreshAsync(stoppingToken);
                foreach (var (model, aliases) in targets)
                    region.Tell(SetTargets.From(ReplicaId.For(model), aliases));
                // Models undeployed (or deleted) since the last pass: their replicas drain and stop.
                foreach (var model in running.Where(m => !targets.ContainsKey(m)))
                    region.Tell(new RetireReplica(ReplicaId.For(model)));
                running = targets.Keys.ToHashSet();
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                logger.LogWarning(e, "Could not read the registry to drive model replicas; trying again in {Interval}", Interval);
            }
            // Wake on a change of any aliases.json, or after the interval.
            await _changed.WaitAsync(Interval, stoppingToken);
        }
    }

    private void Signal()
    {
        if (_changed.CurrentCount == 0)
        {
            try { _changed.Release(); }
            catch (SemaphoreFullException) { /* already signalled */ }
        }
    }
}
