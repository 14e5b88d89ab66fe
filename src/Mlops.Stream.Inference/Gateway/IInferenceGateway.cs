using Mlops.Stream.Inference.Wire;

namespace Mlops.Stream.Inference.Gateway;

/// <summary>
/// What the HTTP edge may ask of the serving side. It sees no actors, no ONNX types and no Kafka:
/// the host implements this over the model replicas' shard region and the registry.
/// </summary>
public interface IInferenceGateway
{
    /// <summary>
    /// Runs one Open Inference Protocol v2 request (its JSON body) on the model's production or
    /// canary version, or on <paramref name="version"/> when given, through the same batcher the
    /// Kafka path uses. Never throws for a bad request or a busy model: the reply says what happened.
    /// </summary>
    Task<InferReply> InferAsync(string model, int? version, ReadOnlyMemory<byte> requestJson, CancellationToken cancellationToken);

    /// <summary>The model's metadata and serving state, or null if the registry does not know it.</summary>
    Task<ModelStatus?> GetModelAsync(string model, CancellationToken cancellationToken);

    /// <summary>Every model in the registry with its serving state.</summary>
    Task<IReadOnlyList<ModelStatus>> ListModelsAsync(CancellationToken cancellationToken);

    /// <summary>Every replica of the model across the cluster, each asked for its state; null if the registry does not know the model.</summary>
    Task<IReadOnlyList<ReplicaInfo>?> ListReplicasAsync(string model, CancellationToken cancellationToken);
}
