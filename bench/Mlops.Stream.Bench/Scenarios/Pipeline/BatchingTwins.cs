namespace Mlops.Stream.Bench.Scenarios.Pipeline;

/// <summary>One way of batching the same ONNX file, served on the node as a model of its own.</summary>
public sealed record BatchingTwin(string Key, string Model, string Label, object? Batching);

/// <summary>
/// Batchings of the same ONNX file served side by side. Every twin's queue holds 1,024 requests, as
/// the shipped demo model's does (16 × its max batch of 64), so at 256 closed-loop clients none is
/// refused for a shorter queue and all run at the same load.
/// </summary>
public static class BatchingTwins
{
    /// <summary>The queue every twin gets: the demo model's default (16 × 64).</summary>
    private const int QueueSize = 1_024;

    /// <summary>
    /// The HTTP comparison: the demo model as shipped (max batch 64, dispatch when idle: the
    /// default), batching off (max batch 1, one request per model run), and the behaviour before
    /// (max batch 64, always wait up to 5 ms for batch-mates).
    /// </summary>
    public static IReadOnlyList<BatchingTwin> For(string model) =>
    [
        Shipped(model),
        Fixed(model, 1, "batching off (max batch 1)"),
        new("wait5", $"{model}-wait5", "wait 5 ms (max 64, before)", new { max_batch_size = 64, max_queue_delay_ms = 5, dispatch_when_idle = false, max_queue_size = QueueSize }),
    ];

    /// <summary>
    /// The tuning comparison: fixed max batch sizes from 1 to 64 (the shipped model is the 64), the
    /// latency objective (AIMD on the batch size, up to 128 rows), and two instances of the shipped settings.
    /// </summary>
    public static IReadOnlyList<BatchingTwin> Tuning(string model, double objectiveMs) =>
    [
        Fixed(model, 1, "fixed max batch 1"),
        Fixed(model, 8, "fixed max batch 8"),
        Fixed(model, 16, "fixed max batch 16"),
        Fixed(model, 32, "fixed max batch 32"),
        Shipped(model),
        new(AdaptiveKey, $"{model}-slo", $"latency objective {objectiveMs:0.#} ms (max 128)",
            new { max_batch_size = 128, max_queue_delay_ms = 5, latency_objective_ms = objectiveMs, max_queue_size = QueueSize }),
        new(InstancesKey, $"{model}-i2", "2 instances (max 64 each)", new { max_batch_size = 64, max_queue_delay_ms = 5, instances = 2, max_queue_size = QueueSize }),
    ];

    /// <summary>
    /// The heavy model's HTTP comparison (<see cref="HeavyModel"/>, registered as <paramref name="model"/>):
    /// the shipped batching (max 64, dispatch when idle) against batching off, both with the same queue.
    /// </summary>
    public static IReadOnlyList<BatchingTwin> Heavy(string model) =>
    [
        new(ShippedKey, model, "batched (max 64, dispatch when idle)", new { max_batch_size = 64, max_queue_delay_ms = 5, max_queue_size = QueueSize }),
        Fixed(model, 1, "batching off (max batch 1)"),
    ];

    public const string ShippedKey = "batched";
    public const string AdaptiveKey = "slo";
    public const string InstancesKey = "i2";

    /// <summary>The fixed max batch size of a twin from <see cref="Fixed"/> or <see cref="Shipped"/>; null for the others.</summary>
    public static int? FixedBatch(BatchingTwin twin) =>
        twin.Key == ShippedKey ? 64 : twin.Key.StartsWith('b') && int.TryParse(twin.Key[1..], out var size) ? size : null;

    private static BatchingTwin Shipped(string model) => new(ShippedKey, model, "batched (max 64, dispatch when idle)", null);

    private static BatchingTwin Fixed(string model, int maxBatch, string label) =>
        new($"b{maxBatch}", $"{model}-b{maxBatch}", label, new { max_batch_size = maxBatch, max_queue_delay_ms = 5, max_queue_size = QueueSize });
}
