using Mlops.Stream.Inference.Caching;
using Mlops.Stream.Inference.Lifecycle;
using Mlops.Stream.Inference.Onnx;

namespace Mlops.Stream.Actors.Serving;

/// <summary>
/// What a replica did on its own, for the record: audit events (the admin API records what
/// operators asked for) and the ONNX sessions it released, each giving back what it counted in the
/// node's memory budget. Used on the actor's thread only.
/// </summary>
internal sealed class ReplicaJournal(string entityId, string model, IAuditLog? audit, ModelCacheEntry budget)
{
    /// <summary>The sessions the replica holds (production, a swap's new version, the previous version, a canary) and their bytes in the budget.</summary>
    private readonly Dictionary<IInferenceModel, long> _held = new(ReferenceEqualityComparer.Instance);

    /// <summary>ONNX sessions released after swaps and canary withdrawals (shown so tests and operators see old versions go away).</summary>
    public int DisposedSessions { get; private set; }

    public void Audit(string action, int version, string result, string? detail) =>
        audit?.WriteAsync(new AuditEvent(Guid.NewGuid().ToString("N"), DateTimeOffset.UtcNow,
            $"replica:{entityId}", action, model, version, result, detail));

    /// <summary>The replica took <paramref name="session"/>, counted as <paramref name="bytes"/> in the budget until released here.</summary>
    public void Hold(IInferenceModel session, long bytes) => _held[session] = bytes;

    /// <summary>Every session was freed at once (the model unloaded): the budget was told as a whole, nothing is given back one by one.</summary>
    public void ForgetHeld() => _held.Clear();

    public void Release(IInferenceModel session)
    {
        session.Dispose();
        DisposedSessions++;
        if (_held.Remove(session, out var bytes)) budget.ReleaseSession(bytes);
    }
}
