using Akka.Actor;
using Akka.Event;
using Mlops.Stream.Inference.Gateway;
using Mlops.Stream.Inference.Lifecycle;
using Mlops.Stream.Inference.Onnx;

namespace Mlops.Stream.Actors.Serving;

/// <summary>
/// A replica's hot swap. The target version is loaded beside the serving one, its checksum and
/// signature checked against the serving contract, warmed with its sample request, then switched
/// in between batches; the old session is released once no batch uses it and kept as the previous
/// version for an instant rollback. A version that fails any step never serves: the old one keeps
/// serving, the failure is reported, and the production alias is moved back to the serving version
/// (<see cref="ProductionRestore"/>), so no node starts serving what this replica refused. One swap at a time; a newer target that arrives meanwhile
/// is taken up when the running swap ends. Called on the replica actor's thread only.
/// </summary>
internal sealed class VersionSwapper(
    ReplicaIdentity replica, ServingContext context, VersionLoader loader, ReplicaRouter router, ReplicaJournal journal, int? target)
{
    /// <summary>The batcher switched to the new version and handed back the old one.</summary>
    public sealed record Swapped(int Version, IInferenceModel Old);

    /// <summary>The outcome of moving the production alias back from a refused version.</summary>
    public sealed record ProductionRestored(int Refused, int Serving, bool Moved, string? Error);

    private int? _target = target;
    private bool _allowBreaking;
    private (int Version, bool AllowBreaking)? _refused;

    /// <summary>The version being loaded and warmed to replace the serving one, if any.</summary>
    public int? SwappingTo { get; private set; }

    /// <summary>The version kept loaded for an instant rollback, if any.</summary>
    public IInferenceModel? Previous { get; private set; }

    public SwapRecord? LastSwap { get; private set; }

    private IInferenceModel Serving => router.Production.Model;

    /// <summary>Swap to <paramref name="production"/> when it differs from the serving version (null: keep serving what serves).</summary>
    public void Retarget(int? production, bool allowBreaking)
    {
        // Asked for another version than the refused one: the refusal no longer stands in the way
        // of trying that version again should it be asked for anew.
        if (_refused is { } refused && refused.Version != production) _refused = null;
        _target = production;
        _allowBreaking = allowBreaking;
        MaybeStart();
    }

    public void OnPrepared(VersionPrepared prepared)
    {
        if (prepared.Version != _target)
        {
            replica.Log.Info("Replica {0}: version {1} was superseded by {2} while loading", replica.EntityId, prepared.Version, _target);
            journal.Release(prepared.Model);
            SwappingTo = null;
            MaybeStart();
            return;
        }
        SwapIn(prepared.Model);
    }

    public void OnSwapped(Swapped swapped)
    {
        var from = swapped.Old.Version;
        SwappingTo = null;
        _refused = null;
        if (Previous is not null) journal.Release(Previous);
        Previous = null;
        if (context.KeepPreviousVersion) Previous = swapped.Old;
        else journal.Release(swapped.Old);
        LastSwap = new SwapRecord(from, swapped.Version, DateTimeOffset.UtcNow, true, null);
        replica.Log.Info("Replica {0}: now serving version {1} (was {2})", replica.EntityId, swapped.Version, from);
        journal.Audit("swap", swapped.Version, "ok", $"version {from} → {swapped.Version}");
        context.Metrics.CountSwap(replica.Model, succeeded: true);
        MaybeStart();
    }

    public void OnFailed(VersionPrepareFailed failed)
    {
        SwappingTo = null;
        _refused = (failed.Version, _allowBreaking);
        LastSwap = new SwapRecord(Serving.Version, failed.Version, DateTimeOffset.UtcNow, false, failed.Cause.Message);
        replica.Log.Error(failed.Cause, "Replica {0}: version {1} refused, version {2} keeps serving: {3}",
            replica.EntityId, failed.Version, Serving.Version, failed.Cause.Message);
        journal.Audit("swap", failed.Version, "refused", $"version {Serving.Version} keeps serving: {failed.Cause.Message}");
        context.Metrics.CountSwap(replica.Model, succeeded: false);
        MaybeStart();
    }

    private void MaybeStart()
    {
        if (SwappingTo is not null || _target is not { } target || target == Serving.Version) return;
        // A refused version is retried only when the target changes (or the operator forces it).
        // Meanwhile the alias must not keep naming it: a node starting now would serve it.
        if (_refused == (target, _allowBreaking))
        {
            RestoreProduction(target);
            return;
        }
        SwappingTo = target;
        if (Previous is { } previous && previous.Version == target)
        {
            // Rollback to the version kept warm: no load, switch at once.
            Previous = null;
            SwapIn(previous);
            return;
        }
        replica.Log.Info("Replica {0}: loading version {1} beside serving version {2}", replica.EntityId, target, Serving.Version);
        loader.PrepareBeside(VersionSlot.Production, target, _allowBreaking ? null : Serving.Signature, replica.Self);
    }

    /// <summary>
    /// The node's memory budget has no room for a load beside what the model holds: the version kept
    /// for rollback is released (audited) so the load can be tried again; false when none is kept.
    /// </summary>
    public bool DropPrevious(string why)
    {
        if (Previous is not { } previous) return false;
        Previous = null;
        journal.Release(previous);
        replica.Log.Warning("Replica {0}: released version {1}, kept for rollback, to make room in the node's memory budget ({2})",
            replica.EntityId, previous.Version, why);
        journal.Audit("previous-released", previous.Version, "ok", $"kept for rollback; released to make room in the node's memory budget: {why}");
        return true;
    }

    /// <summary>The swap's load was refused for room that has been made since: try it again.</summary>
    public void RetryLoad()
    {
        SwappingTo = null;
        MaybeStart();
    }

    /// <summary>
    /// Moves the production alias back from <paramref name="refused"/> to the serving version, by
    /// compare-and-set (nothing happens once the alias names something else). Idempotent, so it is
    /// asked again whenever the refused version is still the target.
    /// </summary>
    private void RestoreProduction(int refused)
    {
        var keep = Serving.Version;
        ProductionRestore.RestoreAsync(context.Registry, replica.Model, refused, keep).PipeTo(replica.Self,
            success: moved => new ProductionRestored(refused, keep, moved, null),
            failure: e => new ProductionRestored(refused, keep, false, e.GetBaseException().Message));
    }

    public void OnProductionRestored(ProductionRestored restored)
    {
        if (restored.Error is { } error)
        {
            replica.Log.Error("Replica {0}: could not move the production alias back from refused version {1} to {2}: {3}",
                replica.EntityId, restored.Refused, restored.Serving, error);
            journal.Audit(ProductionRestore.AuditAction, restored.Serving, "failed", $"version {restored.Refused} was refused; {error}");
            return;
        }
        if (!restored.Moved) return;
        replica.Log.Warning("Replica {0}: production alias moved back from refused version {1} to version {2}",
            replica.EntityId, restored.Refused, restored.Serving);
        journal.Audit(ProductionRestore.AuditAction, restored.Serving, "ok",
            $"version {restored.Refused} was refused; production is version {restored.Serving} again");
    }

    /// <summary>Switch between batches; the batcher hands back the old model once no batch runs on it.</summary>
    private void SwapIn(IInferenceModel model) =>
        router.Production.SwapModelAsync(model).PipeTo(replica.Self, success: old => new Swapped(model.Version, old));
}
