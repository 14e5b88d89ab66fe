using Mlops.Stream.Inference.Batching;
using Mlops.Stream.Inference.Wire;

namespace Mlops.Stream.Inference.Gateway;

/// <summary>The outcome of one synchronous inference. Exactly one case applies.</summary>
public abstract record InferReply
{
    private InferReply() { }

    /// <summary>Served: the v2 response body (UTF-8 JSON) and the version that served it.</summary>
    public sealed record Served(byte[] ResponseJson, int Version) : InferReply;

    /// <summary>The request itself is wrong (HTTP 400, Kafka dead letter).</summary>
    public sealed record Invalid(InferenceError Error) : InferReply;

    /// <summary>The model or version does not exist (HTTP 404).</summary>
    public sealed record NotFound(string Message) : InferReply;

    /// <summary>The model exists but has no loaded version right now: loading, failed, undeployed (HTTP 503).</summary>
    public sealed record NotReady(string Message) : InferReply;

    /// <summary>The model can never load on this node: larger than its memory budget, or pinned models fill it (HTTP 507).</summary>
    public sealed record OverMemoryBudget(string Message) : InferReply;

    /// <summary>Refused by the batcher: queue full (HTTP 429), shutting down (503) or the model failed on the batch (500).</summary>
    public sealed record Rejected(BatchRejection Rejection) : InferReply;

    /// <summary>No answer in time (HTTP 504). The request may still run.</summary>
    public sealed record TimedOut(string Message) : InferReply;
}
