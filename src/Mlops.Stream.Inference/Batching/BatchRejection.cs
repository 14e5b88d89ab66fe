namespace Mlops.Stream.Inference.Batching;

/// <summary>
/// Why a <see cref="DynamicBatcher"/> did not run a request, as opposed to the request itself
/// being wrong (that is an <see cref="Wire.InferenceError"/>). The snake_case wire codes
/// (<see cref="BatchRejectionReasons.ToWireCode"/>) are a stable contract for HTTP bodies,
/// metrics labels and Kafka headers, so existing values must never be renamed.
/// </summary>
public enum BatchRejectionReason
{
    /// <summary>
    /// The queue held <see cref="BatchingSettings.MaxQueueSize"/> requests. Transient: HTTP maps it
    /// to 429 (or 503), the Kafka path should not see it because it waits for room instead.
    /// </summary>
    QueueFull = 1,

    /// <summary>The batcher is stopping or stopped; retry on another replica or after restart (HTTP 503).</summary>
    ShuttingDown,

    /// <summary>
    /// The model run itself failed (ONNX Runtime threw), failing every request of that batch. Not
    /// the request's fault (HTTP 500); the Kafka decider chooses between retry and dead letter.
    /// </summary>
    ModelFailed,
}

/// <summary>Wire codes for <see cref="BatchRejectionReason"/>.</summary>
public static class BatchRejectionReasons
{
    public static string ToWireCode(this BatchRejectionReason reason) => reason switch
    {
        BatchRejectionReason.QueueFull => "queue_full",
        BatchRejectionReason.ShuttingDown => "shutting_down",
        BatchRejectionReason.ModelFailed => "model_failed",
        _ => throw new ArgumentOutOfRangeException(nameof(reason), reason, "unknown batch rejection reason"),
    };

    public static bool TryParse(string wireCode, out BatchRejectionReason reason)
    {
        foreach (var candidate in Enum.GetValues<BatchRejectionReason>())
        {
            if (candidate.ToWireCode() == wireCode)
            {
                reason = candidate;
                return true;
            }
        }

        reason = default;
        return false;
    }
}

/// <summary>A request the batcher did not run: the reason plus a message for humans.</summary>
public sealed record BatchRejection(BatchRejectionReason Reason, string Message)
{
    /// <summary>The model's exception for <see cref="BatchRejectionReason.ModelFailed"/>; null otherwise.</summary>
    public Exception? Cause { get; init; }

    public string WireCode => Reason.ToWireCode();

    public override string ToString() => $"{WireCode}: {Message}";
}
