using Mlops.Stream.Inference.Gateway;

namespace Mlops.Stream.Http.Internal;

/// <summary>What became of a promotion after its alias moved, as far as the model's replica says.</summary>
internal abstract record PromotionOutcome
{
    private PromotionOutcome() { }

    /// <summary>Every replica of the model serves the version.</summary>
    public sealed record Serving : PromotionOutcome;

    /// <summary>The replica refused the version and moved production back to the one it serves.</summary>
    public sealed record Refused(string Reason) : PromotionOutcome;

    /// <summary>Someone else moved production while the version was loading.</summary>
    public sealed record Superseded(string Message) : PromotionOutcome;

    /// <summary>Neither happened within the wait: the version is still loading, or no replica answered.</summary>
    public sealed record Pending(string Detail) : PromotionOutcome;
}

/// <summary>
/// Waits for the replicas' answer to a promotion: served once every replica of the model in its plan
/// that can be reached serves the version (a deployment script then knows the whole cluster moved).
/// The production alias moving away from the version is the sure sign of a refusal (the refusing
/// replica restores production by compare-and-set); the replica's last swap says why. It polls the
/// model's status: promotions are rare and the wait is short, so a subscription to replica events
/// would not be worth its machinery.
/// </summary>
internal static class PromotionWatch
{
    private static readonly TimeSpan PollEvery = TimeSpan.FromMilliseconds(200);

    public static async Task<PromotionOutcome> WaitAsync(
        IInferenceGateway gateway, string model, int version, TimeSpan wait, CancellationToken cancellationToken)
    {
        var waited = System.Diagnostics.Stopwatch.StartNew();
        while (true)
        {
            var status = await gateway.GetModelAsync(model, cancellationToken).ConfigureAwait(false);
            var replicas = await gateway.ListReplicasAsync(model, cancellationToken).ConfigureAwait(false) ?? [];
            if (Judge(status, replicas, model, version) is { } outcome) return outcome;
            var left = wait - waited.Elapsed;
            if (left <= TimeSpan.Zero)
            {
                var state = status is null ? "unknown" : ModelStates.ToWireName(status.State) + (status.Reason is { } reason ? $": {reason}" : "");
                var counted = Counted(replicas);
                var serving = counted.Count(r => ServesVersion(r, version));
                return new PromotionOutcome.Pending(
                    $"Version {version} of '{model}' is production but does not serve everywhere yet after {wait.TotalSeconds:0.#} s " +
                    $"({serving} of {counted.Count} replica(s) serve it; serving version {status?.ServingVersion?.ToString() ?? "none"}, state {state}); " +
                    $"see GET /api/v1/models/{model}/replicas.");
            }
            await Task.Delay(left < PollEvery ? left : PollEvery, cancellationToken).ConfigureAwait(false);
        }
    }

    private static PromotionOutcome? Judge(ModelStatus? status, IReadOnlyList<ReplicaInfo> replicas, string model, int version)
    {
        if (status is null) return null;
        if (status.ServingVersion == version && status.State == ReplicaState.Ready && Counted(replicas).All(r => ServesVersion(r, version)))
            return new PromotionOutcome.Serving();
        if (status.ProductionVersion == version) return null;
        return status.LastSwap is { Succeeded: false } swap && swap.To == version
            ? new PromotionOutcome.Refused(
                $"Version {version} of '{model}' was refused by its replica and production is version {status.ProductionVersion} again: {swap.Reason}")
            : new PromotionOutcome.Superseded(
                $"The production version of '{model}' changed to {status.ProductionVersion?.ToString() ?? "none"} while version {version} was loading.");
    }

    /// <summary>The replicas a promotion waits for: in the plan and reachable (a lost node's replica restarts elsewhere and loads the version then).</summary>
    private static List<ReplicaInfo> Counted(IReadOnlyList<ReplicaInfo> replicas) => [.. replicas.Where(r => r.Planned && r.Reachable)];

    private static bool ServesVersion(ReplicaInfo replica, int version) => replica.State == ReplicaState.Ready && replica.ServingVersion == version;
}
