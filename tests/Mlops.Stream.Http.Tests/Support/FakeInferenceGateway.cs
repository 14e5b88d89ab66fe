using System.Collections.Concurrent;
using Mlops.Stream.Inference.Gateway;

namespace Mlops.Stream.Http.Tests.Support;

/// <summary>One call the HTTP edge made to <see cref="IInferenceGateway.InferAsync"/>, with a copy of the body it passed.</summary>
public sealed record InferCall(string Model, int? Version, byte[] Body, CancellationToken CancellationToken);

/// <summary>A gateway whose replies and model list the test sets; it records every infer call.</summary>
public sealed class FakeInferenceGateway : IInferenceGateway
{
    private readonly ConcurrentQueue<InferCall> _calls = new();

    /// <summary>Answers each infer call; by default every model is unknown.</summary>
    public Func<InferCall, Task<InferReply>> OnInfer { get; set; } =
        _ => Task.FromResult<InferReply>(new InferReply.NotFound("no model configured in the fake"));

    public IReadOnlyList<ModelStatus> Models { get; set; } = [];

    public IReadOnlyCollection<InferCall> Calls => _calls;

    /// <summary>Every call answers <paramref name="reply"/>.</summary>
    public void Reply(InferReply reply) => OnInfer = _ => Task.FromResult(reply);

    public Task<InferReply> InferAsync(string model, int? version, ReadOnlyMemory<byte> requestJson, CancellationToken cancellationToken)
    {
        var call = new InferCall(model, version, requestJson.ToArray(), cancellationToken);
        _calls.Enqueue(call);
        return OnInfer(call);
    }

    public Task<ModelStatus?> GetModelAsync(string model, CancellationToken cancellationToken) =>
        Task.FromResult(Models.FirstOrDefault(m => m.Name == model));

    public Task<IReadOnlyList<ModelStatus>> ListModelsAsync(CancellationToken cancellationToken) =>
        Task.FromResult(Models);

    /// <summary>Replicas to list per model; a known model without an entry has none.</summary>
    public Dictionary<string, IReadOnlyList<ReplicaInfo>> Replicas { get; } = new(StringComparer.Ordinal);

    public Task<IReadOnlyList<ReplicaInfo>?> ListReplicasAsync(string model, CancellationToken cancellationToken) =>
        Task.FromResult(Models.Any(m => m.Name == model) ? Replicas.GetValueOrDefault(model) ?? [] : (IReadOnlyList<ReplicaInfo>?)null);
}
