using Akka.Actor;
using Akka.Event;
using Mlops.Stream.Inference.Batching;
using Mlops.Stream.Inference.Gateway;
using Mlops.Stream.Inference.Onnx;
using Mlops.Stream.Inference.Registry;

namespace Mlops.Stream.Actors.Serving;

/// <summary>
/// A replica's canary: loads the canary version beside production (checked against production's
/// signature), routes its share of requests to it, changes its weight, withdraws it, and runs the
/// guard that rolls it back on its own when its error rate or p99 latency breaches
/// <see cref="ServingContext.CanaryGuard"/>. Called on the replica actor's thread only; loads and
/// releases come back to the actor as messages, which it hands here.
/// </summary>
internal sealed class CanaryController(
    ReplicaIdentity replica, ServingContext context, VersionLoader loader, ReplicaRouter router, VersionStatistics statistics,
    ReplicaJournal journal, ITimerScheduler timers)
{
    /// <summary>Time to judge the canary against the guard.</summary>
    public sealed class Check { public static readonly Check Instance = new(); private Check() { } }

    /// <summary>A withdrawn canary's batcher has finished what it held: its session can go.</summary>
    public sealed record Released(IInferenceModel Model);

    /// <summary>The guard withdrew the canary and removed (or tried to remove) its alias.</summary>
    public sealed record RolledBack(int Version, string Reason);

    private CanaryTarget? _target;
    private (IInferenceModel Model, DynamicBatcher Batcher)? _canary;
    private int? _loading;
    private (int Version, string Reason)? _refused;

    /// <summary>The last automatic rollback (From = the canary version, To = production).</summary>
    public SwapRecord? LastRollback { get; private set; }

    /// <summary>The canary statistics the guard judged last.</summary>
    public VersionStats? LastGuardCheck { get; private set; }

    /// <summary>The canary serving now, with its share of requests.</summary>
    public CanaryTarget? Serving => _canary is { } canary ? new CanaryTarget(canary.Model.Version, router.CanaryWeight) : null;

    /// <summary>The canary's batcher if <paramref name="version"/> is the canary (a request asking for it by number).</summary>
    public DynamicBatcher? BatcherOf(int version) => _canary is { } canary && canary.Model.Version == version ? canary.Batcher : null;

    private IInferenceModel Production => router.Production.Model;

    /// <summary>Bring the canary in line with <paramref name="target"/>: load it, change its weight, or withdraw it.</summary>
    public void Retarget(CanaryTarget? target)
    {
        _target = target;
        if (_canary is { } current && (target is null || target.Version != current.Model.Version))
            Withdraw($"target changed to {(target is null ? "none" : $"version {target.Version}")}");
        if (target is null) return;
        if (_canary is { } loaded)
        {
            router.SetCanary(loaded.Batcher, target.Weight);
            return;
        }
        if (_loading is not null || _refused?.Version == target.Version) return;
        _loading = target.Version;
        replica.Log.Info("Replica {0}: loading canary version {1} beside production version {2}", replica.EntityId, target.Version, Production.Version);
        loader.PrepareBeside(VersionSlot.Canary, target.Version, Production.Signature, replica.Self);
    }

    public void OnPrepared(VersionPrepared prepared)
    {
        _loading = null;
        if (_target?.Version != prepared.Version)
        {
            journal.Release(prepared.Model);
            Retarget(_target);
            return;
        }
        var batcher = loader.NewBatcher(prepared);
        _canary = (prepared.Model, batcher);
        statistics.Reset(prepared.Version);
        router.SetCanary(batcher, _target.Weight);
        replica.Log.Info("Replica {0}: canary version {1} serves {2:P0} of requests", replica.EntityId, prepared.Version, _target.Weight);
        if (context.CanaryGuard is not null)
            timers.StartPeriodicTimer(nameof(Check), Check.Instance, context.CanaryGuard.CheckEvery);
    }

    public void OnFailed(VersionPrepareFailed failed)
    {
        _loading = null;
        _refused = (failed.Version, failed.Cause.Message);
        replica.Log.Error(failed.Cause, "Replica {0}: canary version {1} refused: {2}", replica.EntityId, failed.Version, failed.Cause.Message);
        journal.Audit("canary-load", failed.Version, "refused", failed.Cause.Message);
        Retarget(_target);
    }

    /// <summary>The canary's load was refused for room that has been made since: try it again.</summary>
    public void RetryLoad()
    {
        _loading = null;
        Retarget(_target);
    }

    /// <summary>
    /// The automatic rollback: once the canary has served enough requests, an error rate or p99
    /// latency over the guard's thresholds withdraws it here at once and removes the canary alias
    /// from the registry, so no replica loads it again.
    /// </summary>
    public void Guard()
    {
        if (_canary is not { } canary || context.CanaryGuard is not { } guard) return;
        var stats = statistics.Of(canary.Model.Version);
        LastGuardCheck = stats;
        if (guard.Breach(stats) is not { } breach) return;
        var version = canary.Model.Version;
        _refused = (version, $"rolled back automatically: {breach}");
        replica.Log.Warning("Replica {0}: canary version {1} rolled back automatically: {2}", replica.EntityId, version, breach);
        Withdraw("automatic rollback");
        context.Registry.SetAliasAsync(replica.Model, ModelAliases.CanaryAlias, null).PipeTo(replica.Self,
            success: _ => new RolledBack(version, breach),
            failure: e => new RolledBack(version, $"{breach}; removing the canary alias failed: {e.Message}"));
    }

    public void OnRolledBack(RolledBack rolledBack)
    {
        LastRollback = new SwapRecord(rolledBack.Version, Production.Version, DateTimeOffset.UtcNow, true, rolledBack.Reason);
        context.Metrics.CountRollback(replica.Model, "canary_guard");
        journal.Audit("canary-auto-rollback", rolledBack.Version, "ok", rolledBack.Reason);
    }

    /// <summary>Stops the canary's batcher and frees its session (the replica is stopping).</summary>
    public async Task StopAsync()
    {
        if (_canary is not { } canary) return;
        await canary.Batcher.StopAsync().ConfigureAwait(false);
        canary.Model.Dispose();
    }

    /// <summary>Stop routing to the canary; its batcher finishes what it holds, then its session is released.</summary>
    private void Withdraw(string why)
    {
        if (_canary is not { } canary) return;
        router.ClearCanary();
        _canary = null;
        timers.Cancel(nameof(Check));
        replica.Log.Info("Replica {0}: canary version {1} withdrawn ({2})", replica.EntityId, canary.Model.Version, why);
        canary.Batcher.StopAsync().ContinueWith(_ => (object)new Released(canary.Model), TaskScheduler.Default).PipeTo(replica.Self);
    }
}

/// <summary>Who a replica is, for the helpers that act on its behalf: its names, its actor and its log.</summary>
internal sealed record ReplicaIdentity(string EntityId, string Model, IActorRef Self, ILoggingAdapter Log);
