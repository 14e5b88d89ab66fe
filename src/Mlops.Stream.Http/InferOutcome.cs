using Mlops.Stream.Inference.Batching;
using Mlops.Stream.Inference.Gateway;

namespace Mlops.Stream.Http;

/// <summary>
/// How one synchronous inference call is counted in <c>mlops_requests_total</c>, the same on every
/// edge (HTTP, gRPC): the outcome label, and whether the model and version labels may be filled.
/// </summary>
/// <param name="ModelKnown">
/// True only once the serving side has answered for the model: a name a caller made up (unknown,
/// or refused before it reached the gateway) must not create a series.
/// </param>
public readonly record struct InferOutcome(string Outcome, bool ModelKnown = false, int? Version = null)
{
    /// <summary>The outcome of a gateway reply; <paramref name="version"/> is the one the caller asked for, if any.</summary>
    public static InferOutcome Of(InferReply reply, int? version) => reply switch
    {
        InferReply.Served served => new(RequestOutcomes.Success, true, served.Version),
        InferReply.Invalid => new(RequestOutcomes.Invalid, true, version),
        InferReply.NotFound => new(RequestOutcomes.Invalid),
        InferReply.NotReady => new(RequestOutcomes.Rejected, true, version),
        InferReply.OverMemoryBudget => new(RequestOutcomes.Rejected, true, version),
        InferReply.Rejected { Rejection.Reason: BatchRejectionReason.ModelFailed } => new(RequestOutcomes.Failed, true, version),
        InferReply.Rejected => new(RequestOutcomes.Rejected, true, version),
        InferReply.TimedOut => new(RequestOutcomes.TimedOut, true, version),
        _ => new(RequestOutcomes.Failed),
    };

    /// <summary>Counts the call once under <paramref name="source"/> (a <see cref="RequestSources"/> value); a node without metrics passes null.</summary>
    public void CountIn(IRequestCounter? counter, string model, string source) =>
        counter?.CountRequest(ModelKnown ? model : "", Version, source, Outcome);
}
