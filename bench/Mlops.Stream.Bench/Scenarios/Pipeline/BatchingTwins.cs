namespace Mlops.Stream.Bench.Scenarios.Pipeline;

/// <summary>One way of batching the same ONNX file, served on the node as a model of its own.</summary>
public sealed record BatchingTwin(string Key, string Model, string Label, object? Batching);

/// <summary>
/// The three batchings the HTTP comparison serves side by side: the demo model as shipped (max batch
/// 64, dispatch when idle: the new default), batching off (max batch 1, one request per model run),
/// and the behaviour before (max batch 64, always wait up to 5 ms for batch-mates).
/// </summary>
public static class BatchingTwins
{
    public static IReadOnlyList<BatchingTwin> For(string model) =>
    [
        new("batched", model, "batched (max 64, dispatch when idle)", null),
        new("b1", $"{model}-b1", "batching off (max batch 1)", new { max_batch_size = 1 }),
        new("wait5", $"{model}-wait5", "wait 5 ms (max 64, before)", new { max_batch_size = 64, max_queue_delay_ms = 5, dispatch_when_idle = false }),
    ];
}
