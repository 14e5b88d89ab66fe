using Akka.Actor;
using Akka.Hosting;
using Mlops.Stream.Actors.Placement;
using Mlops.Stream.Actors.Serving;
using Mlops.Stream.Inference.Gateway;
using Mlops.Stream.Inference.Registry;

namespace Mlops.Stream.Host.Models;

/// <summary>
/// Drives the model replicas of the whole cluster to what the registry says: for every model with a
/// production alias, replicas <c>&lt;model&gt;#0..N-1</c> run (started through sharding, wherever the
/// allocation strategy puts them) and are told their target versions; replicas beyond N, and every
/// replica of a model no longer served, are retired. N is the model's scale from the registry, or by
/// default one replica per node that is up. Runs on every node (each tells the same, idempotently),
/// every few seconds and at once when the registry's aliases or scale or the cluster's members
/// change; a replica that stopped or whose node was lost is started again by the next pass.
/// Make before break: a replica beyond N is retired only once replicas 0..N-1 all serve (or after
/// <see cref="MaxRetireWait"/>), so a scale-down that follows a lost node never leaves a model with no
/// serving replica while the lost one's replacement is still loading.
/// </summary>
public sealed class ReplicaKeeper(
    IRequiredActor<ModelReplica> replicas, ServedModels served, IModelRegistry registry, ReplicaPlan plan, IReplicaLocations locations,
    ReplicaDirectory directory, NodeLiveness liveness, IServiceProvider services, ILogger<ReplicaKeeper> logger, TimeProvider? clock = null)
    : BackgroundService
{
    private static readonly TimeSpan Interval = TimeSpan.FromSeconds(3);

    /// <summary>
    /// In the default (one per node) mode, a drop in the number of nodes lowers N only after this
    /// long: a node restarting (rolling restart, a quick crash) does not make the cluster retire a
    /// replica and start it again a moment later, each time rebalancing the model's Kafka group.
    /// </summary>
    public static readonly TimeSpan PerNodeScaleDownAfter = TimeSpan.FromSeconds(30);

    /// <summary>How long a replica beyond the plan is kept while the planned ones do not all serve (a broken version may never serve).</summary>
    public static readonly TimeSpan MaxRetireWait = TimeSpan.FromSeconds(60);

    private readonly TimeProvider _clock = clock ?? TimeProvider.System;
    /// <summary>Replicas beyond the plan, and since when, kept until the planned ones serve.</summary>
    private Dictionary<string, DateTimeOffset> _keptSince = new(StringComparer.Ordinal);
    private readonly SemaphoreSlim _changed = new(0, 1);
    private HashSet<string> _retiring = new(StringComparer.Ordinal);
    private int _perNode = 1;
    private DateTimeOffset? _fewerNodesSince;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var region = await replicas.GetAsync(stoppingToken);
        using var watch = registry.WatchAliases(Signal);
        liveness.MembershipChanged += Signal;
        try
        {
            while (!stoppingToken.IsCancellationRequested)
            {
                try
                {
                    await PassAsync(region, stoppingToken);
                }
                catch (Exception e) when (e is not OperationCanceledException)
                {
                    logger.LogWarning(e, "Could not read the registry to drive model replicas; trying again in {Interval}", Interval);
                }
                await _changed.WaitAsync(Interval, stoppingToken);
            }
        }
        finally
        {
            liveness.MembershipChanged -= Signal;
        }
    }

    private async Task PassAsync(IActorRef region, CancellationToken cancellationToken)
    {
        // The nodes that stay drive the replicas; a message to a region that is shutting down would be
        // buffered and hold up its graceful shutdown.
        if (liveness.SelfLeaving) return;
        var targets = await served.RefreshAsync(cancellationToken);
        var perNode = PerNodeCount();
        var counts = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var model in targets.Keys)
            counts[model] = (await registry.GetScaleAsync(model, cancellationToken))?.Replicas ?? perNode;
        plan.Set(counts);

        foreach (var (model, aliases) in targets)
        {
            for (var index = 0; index < counts[model]; index++)
                region.Tell(SetTargets.From(ReplicaId.For(model, index), aliases));
        }

        var retiring = new HashSet<string>(StringComparer.Ordinal);
        var kept = new Dictionary<string, DateTimeOffset>(StringComparer.Ordinal);
        var plannedServe = new Dictionary<string, bool>(StringComparer.Ordinal);
        foreach (var replica in locations.All)
        {
            if (counts.TryGetValue(replica.Model, out var count) && replica.Index < count) continue;
            if (count > 0 && !await PlannedServeAsync(replica.Model, count, plannedServe, cancellationToken))
            {
                var since = _keptSince.GetValueOrDefault(replica.EntityId, _clock.GetUtcNow());
                if (_clock.GetUtcNow() - since < MaxRetireWait)
                {
                    if (!_keptSince.ContainsKey(replica.EntityId))
                        logger.LogInformation("Keeping replica {Replica} on {Node} beyond the model's plan of {Count} until those serve", replica.EntityId,
                            replica.Node, count);
                    kept[replica.EntityId] = since;
                    continue;
                }
            }
            retiring.Add(replica.EntityId);
            if (!_retiring.Contains(replica.EntityId))
                logger.LogInformation("Retiring replica {Replica} on {Node}: the model's plan is {Count} replica(s)", replica.EntityId, replica.Node,
                    counts.GetValueOrDefault(replica.Model));
            // Told where it runs, not through sharding: a message sent through sharding to a replica
            // that is draining would start it again once it stopped. Told again each pass until it is gone.
            var target = new ReplicaTarget(replica.EntityId, null, replica.Node);
            (directory.WithoutStarting(target) ?? region).Tell(new RetireReplica(replica.EntityId), ActorRefs.NoSender);
        }
        _retiring = retiring;
        _keptSince = kept;
    }

    /// <summary>Whether replicas 0..count-1 of the model all serve (reachable and ready); asked once per model and pass.</summary>
    private async Task<bool> PlannedServeAsync(string model, int count, Dictionary<string, bool> known, CancellationToken cancellationToken)
    {
        if (known.TryGetValue(model, out var serve)) return serve;
        // Resolved here, not in the constructor: the gateway needs the shard region, which exists only once the actor system runs.
        var replicas = await services.GetRequiredService<IInferenceGateway>().ListReplicasAsync(model, cancellationToken) ?? [];
        serve = Enumerable.Range(0, count).All(index =>
            replicas.Any(r => r.Index == index && r.Reachable && r.State == ReplicaState.Ready));
        known[model] = serve;
        return serve;
    }

    /// <summary>One replica per up node, at least 1; lowered only after the nodes stayed fewer for <see cref="PerNodeScaleDownAfter"/>.</summary>
    private int PerNodeCount()
    {
        var nodes = Math.Max(1, liveness.UpMembers);
        var now = _clock.GetUtcNow();
        if (nodes >= _perNode)
        {
            _perNode = nodes;
            _fewerNodesSince = null;
        }
        else if (_fewerNodesSince is not { } since)
        {
            _fewerNodesSince = now;
        }
        else if (now - since >= PerNodeScaleDownAfter)
        {
            _perNode = nodes;
            _fewerNodesSince = null;
        }
        return _perNode;
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
