using Akka.Actor;
using Mlops.Stream.Actors.Placement;
using Mlops.Stream.Inference.Gateway;
using Mlops.Stream.Inference.Registry;
using Mlops.Stream.Inference.Wire;

namespace Mlops.Stream.Actors.Serving;

/// <summary>
/// <see cref="IInferenceGateway"/> over the model replicas: a request goes to a replica on this node
/// when one serves, else to a replica elsewhere chosen by its id (see <see cref="ReplicaDirectory"/>).
/// Inference is idempotent, so when the chosen replica's node is lost (unreachable, leaving) or the
/// replica is not ready, the next one is tried, all within the caller's deadline; every ask is bounded,
/// so an HTTP caller always gets an answer (sharding messages are at-most-once).
/// </summary>
public sealed class ShardedInferenceGateway(
    IActorRef region, ServedModels served, IModelRegistry registry, TimeSpan askTimeout, ReplicaDirectory directory) : IInferenceGateway
{
    private static readonly TimeSpan StatusTimeout = TimeSpan.FromSeconds(3);

    public async Task<InferReply> InferAsync(string model, int? version, ReadOnlyMemory<byte> requestJson, CancellationToken cancellationToken)
    {
        if (!await served.IsServedAsync(model, cancellationToken).ConfigureAwait(false))
            return new InferReply.NotFound($"Model '{model}' is not served: it is not in the registry or has no production version.");
        var bytes = requestJson.ToArray();
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(askTimeout);
        InferReply? notReady = null;
        foreach (var target in directory.ForRequest(model, bytes))
        {
            var answer = await AskAsync<InferReply>(target, new Infer(target.EntityId, version, bytes), askTimeout, deadline.Token, cancellationToken)
                .ConfigureAwait(false);
            switch (answer)
            {
                case Answer<InferReply>.Replied { Reply: InferReply.NotReady reply }:
                    notReady = reply;
                    continue;
                case Answer<InferReply>.Replied replied:
                    return replied.Reply;
                case Answer<InferReply>.NodeLost:
                    continue;
                default:
                    return TimedOut(model);
            }
        }
        return notReady ?? new InferReply.NotReady(directory.Liveness.SelfLeaving
            ? $"This node is shutting down and has no replica of model '{model}' left; send the request to another node."
            : $"Model '{model}' has no replica that can answer now: their nodes are unreachable or leaving.");
    }

    public async Task<ModelStatus?> GetModelAsync(string model, CancellationToken cancellationToken)
    {
        if (!(await registry.ListModelsAsync(cancellationToken).ConfigureAwait(false)).Contains(model)) return null;
        return await StatusOf(model, cancellationToken).ConfigureAwait(false);
    }

    public async Task<IReadOnlyList<ModelStatus>> ListModelsAsync(CancellationToken cancellationToken)
    {
        var models = await registry.ListModelsAsync(cancellationToken).ConfigureAwait(false);
        return await Task.WhenAll(models.Select(m => StatusOf(m, cancellationToken))).ConfigureAwait(false);
    }

    public async Task<IReadOnlyList<ReplicaInfo>?> ListReplicasAsync(string model, CancellationToken cancellationToken)
    {
        if (!(await registry.ListModelsAsync(cancellationToken).ConfigureAwait(false)).Contains(model)) return null;
        return await Task.WhenAll(directory.All(model).Select(async replica =>
        {
            var (location, target, local, reachable) = replica;
            var info = new ReplicaInfo(location.EntityId, location.Index, location.Node.ToString(), local, reachable, null)
            {
                Planned = directory.Planned(model, location.Index),
            };
            if (!reachable) return info;
            return await AskStatusAsync(target, cancellationToken).ConfigureAwait(false) is { } status
                ? info with
                {
                    State = status.State, ServingVersion = status.ServingVersion, Reason = status.Reason, KafkaStream = status.KafkaStream,
                    QueueDepth = status.QueueDepth, Loaded = status.Loaded,
                }
                : info;
        })).ConfigureAwait(false);
    }

    private InferReply.TimedOut TimedOut(string model) => new($"Model '{model}' did not answer within {askTimeout.TotalSeconds:0.#} s.");

    private async Task<ModelStatus> StatusOf(string model, CancellationToken cancellationToken)
    {
        var versions = await registry.ListVersionsAsync(model, cancellationToken).ConfigureAwait(false);
        var production = (await registry.GetAliasesAsync(model, cancellationToken).ConfigureAwait(false)).Production;
        if (production is null)
        {
            var newest = versions.Count > 0 ? versions.Max() : (int?)null;
            return new ModelStatus(model, versions, null, null, ReplicaState.NotServing, "No production version.",
                await SignatureOfAsync(model, newest, cancellationToken).ConfigureAwait(false));
        }
        var status = await ServingReplicaStatus(model, cancellationToken).ConfigureAwait(false);
        // The replica's own signature first: it needs no registry read, and the registry may refuse
        // the production version (a failed checksum), which the replica then reports as its reason.
        var signature = status?.Signature ?? await SignatureOfAsync(model, production, cancellationToken).ConfigureAwait(false);
        if (status is null)
            return new ModelStatus(model, versions, production, null, ReplicaState.Loading, "No replica answered in time.", signature);
        return new ModelStatus(model, versions, production, status.ServingVersion, status.State, status.Reason, signature)
        {
            Canary = status.Canary,
            PreviousVersion = status.PreviousVersion,
            LastSwap = status.LastSwap,
            VersionStats = status.Versions,
            KafkaStream = status.KafkaStream,
            Replica = status.EntityId,
            Loaded = status.Loaded,
            Pinned = status.Pinned,
        };
    }

    /// <summary>
    /// The version's signature from its manifest; null when there is no version or the registry
    /// cannot give its manifest (unreachable, or the version fails its checks): a status read still
    /// answers, and the replica's state says what is wrong with the version.
    /// </summary>
    private async Task<ModelSignature?> SignatureOfAsync(string model, int? version, CancellationToken cancellationToken)
    {
        if (version is not { } v) return null;
        try
        {
            return (await registry.GetManifestAsync(model, v, cancellationToken).ConfigureAwait(false)).Signature;
        }
        catch (ModelRegistryException)
        {
            return null;
        }
    }

    /// <summary>
    /// The status of the first replica that serves, trying this node's first: the model can be served
    /// from here when any replica it can reach serves. Without one, the first answer (loading, failed).
    /// </summary>
    private async Task<ReplicaStatus?> ServingReplicaStatus(string model, CancellationToken cancellationToken)
    {
        ReplicaStatus? first = null;
        foreach (var target in directory.ForStatus(model))
        {
            if (await AskStatusAsync(target, cancellationToken).ConfigureAwait(false) is not { } status) continue;
            if (status.State == ReplicaState.Ready) return status;
            first ??= status;
        }
        return first;
    }

    /// <summary>One replica's status, or null when it did not answer within <see cref="StatusTimeout"/> or its node was lost.</summary>
    private async Task<ReplicaStatus?> AskStatusAsync(ReplicaTarget target, CancellationToken cancellationToken)
    {
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(StatusTimeout);
        var answer = await AskAsync<ReplicaStatus>(target, new GetReplicaStatus(target.EntityId), StatusTimeout, deadline.Token, cancellationToken)
            .ConfigureAwait(false);
        return answer is Answer<ReplicaStatus>.Replied { Reply: var status } ? status : null;
    }

    /// <summary>
    /// Asks one replica; gives up when its node is lost or <paramref name="deadline"/> passes; the
    /// caller's own cancellation throws. Inference goes through sharding (which starts the replica if
    /// need be); a status query goes to the replica where it is, so asking never starts one.
    /// </summary>
    private async Task<Answer<T>> AskAsync<T>(ReplicaTarget target, IReplicaMessage message, TimeSpan timeout, CancellationToken deadline,
        CancellationToken caller)
    {
        var lost = target.Node is { } node ? directory.Liveness.LostToken(node) : CancellationToken.None;
        using var attempt = CancellationTokenSource.CreateLinkedTokenSource(deadline, lost);
        var recipient = message is GetReplicaStatus ? directory.WithoutStarting(target) ?? region : target.Local ?? region;
        // A node on its way out sends nothing through its shard region: the region would buffer it and
        // wait for it before it could stop. Its own replicas are asked directly while they last.
        if (recipient == region && directory.Liveness.SelfLeaving) return new Answer<T>.NodeLost();
        try
        {
            var reply = await recipient.Ask<T>(message, timeout, attempt.Token).ConfigureAwait(false);
            return new Answer<T>.Replied(reply);
        }
        catch (Exception e) when (e is OperationCanceledException or AskTimeoutException)
        {
            caller.ThrowIfCancellationRequested();
            return lost.IsCancellationRequested ? new Answer<T>.NodeLost() : new Answer<T>.TimedOut();
        }
    }

    private abstract record Answer<T>
    {
        public sealed record Replied(T Reply) : Answer<T>;
        public sealed record NodeLost : Answer<T>;
        public sealed record TimedOut : Answer<T>;
    }
}
