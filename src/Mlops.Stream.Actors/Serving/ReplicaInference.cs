using Mlops.Stream.Actors.Metrics;
using Mlops.Stream.Inference.Batching;
using Mlops.Stream.Inference.Caching;
using Mlops.Stream.Inference.Gateway;
using Mlops.Stream.Inference.Wire;

namespace Mlops.Stream.Actors.Serving;

/// <summary>
/// A replica's one inference path, used by its Kafka stream and its HTTP requests alike: the
/// router picks production or canary, the batcher runs the request, and every result is recorded
/// in the per-version statistics (which the canary guard reads) and the queue-time metrics.
/// Runs on the callers' threads; holds nothing the replica actor changes.
/// </summary>
/// <param name="usage">Where Kafka requests are counted in flight, so the node's model cache does not evict a replica
/// whose stream is busy (HTTP requests are counted by the replica actor, which decides whether they wait for a load).</param>
public sealed class ReplicaInference(
    string model, ReplicaRouter router, VersionStatistics statistics, ServingMetrics metrics, (HttpServedEvents Sink, string Topic)? servedEvents = null,
    ModelCacheEntry? usage = null)
{
    public string Model => model;

    public ServingMetrics Metrics => metrics;

    /// <summary>
    /// Kafka: waits for room in the batcher's queue, so a full queue backpressures the stream
    /// instead of refusing the record.
    /// </summary>
    public async Task<BatchResult> RunAsync(InferenceRequest request)
    {
        usage?.Enter();
        try
        {
            return await Recorded(router.Route(request.Id).EnqueueAsync(request)).ConfigureAwait(false);
        }
        finally
        {
            usage?.Exit();
        }
    }

    /// <summary>
    /// HTTP: decodes the body, runs it on <paramref name="pinned"/> (a version asked for by number)
    /// or on the routed batcher, refusing at once when the queue is full, and writes the served
    /// event without waiting for it.
    /// </summary>
    public async Task<InferReply> InferAsync(byte[] json, DynamicBatcher? pinned = null)
    {
        var receivedAt = DateTimeOffset.UtcNow;
        if (!InferenceCodec.TryDecodeRequest(json, out var request, out var error))
            return new InferReply.Invalid(error);
        var result = await Recorded((pinned ?? router.Route(request.Id)).Enqueue(request)).ConfigureAwait(false);
        if (result.IsServed)
        {
            if (servedEvents is { } events) events.Sink.Publish(model, events.Topic, request, result, receivedAt, DateTimeOffset.UtcNow);
            return new InferReply.Served(ServingRecords.Prediction(model, result.ModelVersion, request, result.Outputs!), result.ModelVersion);
        }
        if (result.Error is { } invalid) return new InferReply.Invalid(invalid);
        return new InferReply.Rejected(result.Rejection!);
    }

    private async Task<BatchResult> Recorded(Task<BatchResult> running)
    {
        var result = await running.ConfigureAwait(false);
        statistics.Record(result);
        metrics.ObserveQueueTime(model, result);
        return result;
    }
}
