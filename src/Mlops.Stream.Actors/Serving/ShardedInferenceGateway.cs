using Akka.Actor;
using Mlops.Stream.Inference.Gateway;
using Mlops.Stream.Inference.Registry;

namespace Mlops.Stream.Actors.Serving;

/// <summary>
/// <see cref="IInferenceGateway"/> over the model replicas' shard region: requests go to replica 0
/// of their model (one replica per model on a node for now). Asks are bounded by a timeout, so an
/// HTTP caller always gets an answer — sharding messages are at-most-once.
/// </summary>
public sealed class ShardedInferenceGateway(IActorRef replicas, ServedModels served, IModelRegistry registry, TimeSpan askTimeout) : IInferenceGateway
{
    private static readonly TimeSpan StatusTimeout = TimeSpan.FromSeconds(3);

    public async Task<InferReply> InferAsync(string model, int? version, ReadOnlyMemory<byte> requestJson, CancellationToken cancellationToken)
    {
        if (!await served.IsServedAsync(model, cancellationToken).ConfigureAwait(false))
            return new InferReply.NotFound($"Model '{model}' is not served: it is not in the registry or has no production version.");
        try
        {
            return await replicas.Ask<InferReply>(new Infer(ReplicaId.For(model), version, requestJson.ToArray()), askTimeout, cancellationToken)
                .ConfigureAwait(false);
        }
        catch (AskTimeoutException)
        {
            return new InferReply.TimedOut($"Model '{model}' did not answer within {askTimeout.TotalSeconds:0.#} s.");
        }
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

    private async Task<ModelStatus> StatusOf(string model, CancellationToken cancellationToken)
    {
        var versions = await registry.ListVersionsAsync(model, cancellationToken).ConfigureAwait(false);
        var production = (await registry.GetAliasesAsync(model, cancellationToken).ConfigureAwait(false)).Production;
        var signatureVersion = production ?? (versions.Count > 0 ? versions.Max() : (int?)null);
        var signature = signatureVersion is { } v
            ? (await registry.GetManifestAsync(model, v, cancellationToken).ConfigureAwait(false)).Signature
            : null;
        if (production is null)
            return new ModelStatus(model, versions, null, null, ReplicaState.NotServing, "No production version.", signature);
        try
        {
            var status = await replicas.Ask<ReplicaStatus>(new GetReplicaStatus(ReplicaId.For(model)), StatusTimeout, cancellationToken)
                .ConfigureAwait(false);
            return new ModelStatus(model, versions, production, status.ServingVersion, status.State, status.Reason, status.Signature ?? signature)
            {
                Canary = status.Canary,
                PreviousVersion = status.PreviousVersion,
                LastSwap = status.LastSwap,
                VersionStats = status.Versions,
                KafkaStream = status.KafkaStream,
            };
        }
        catch (AskTimeoutException)
        {
            return new ModelStatus(model, versions, production, null, ReplicaState.Loading, "The replica did not answer in time.", signature);
        }
    }
}
