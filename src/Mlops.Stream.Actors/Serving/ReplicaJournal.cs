using Mlops.Stream.Inference.Lifecycle;
using Mlops.Stream.Inference.Onnx;

namespace Mlops.Stream.Actors.Serving;

/// <summary>
/// What a replica did on its own, for the record: audit events (the admin API records what
/// operators asked for) and the ONNX sessions it released. Used on the actor's thread only.
/// </summary>
internal sealed class ReplicaJournal(string entityId, string model, IAuditLog? audit)
{
    /// <summary>ONNX sessions released after swaps and canary withdrawals (shown so tests and operators see old versions go away).</summary>
    public int DisposedSessions { get; private set; }

    public void Audit(string action, int version, string result, string? detail) =>
        audit?.WriteAsync(new AuditEvent(Guid.NewGuid().ToString("N"), DateTimeOffset.UtcNow,
            $"replica:{entityId}", action, model, version, result, detail));

    public void Release(IInferenceModel session)
    {
        session.Dispose();
        DisposedSessions++;
    }
}
