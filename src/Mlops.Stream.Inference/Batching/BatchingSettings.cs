using System.Globalization;
using Mlops.Stream.Inference.Registry;

namespace Mlops.Stream.Inference.Batching;

/// <summary>
/// How a <see cref="DynamicBatcher"/> groups requests. By default (<see cref="DispatchWhenIdle"/>)
/// a request that finds the model idle runs at once, and batches form from what queues while a
/// batch runs: no latency is added when idle, and batches fill up as load grows. Otherwise
/// (Triton's dynamic-batcher semantics) dispatch when <see cref="MaxBatchSize"/> rows are waiting
/// or when the oldest waiting request has waited <see cref="MaxQueueDelay"/>. Either way refuse
/// (or make callers wait) past <see cref="MaxQueueSize"/> queued requests. Immutable; derive
/// variants with <c>with</c>.
/// </summary>
/// <remarks>
/// Start from the model's own advice with <see cref="FromHints"/> (the manifest's
/// <see cref="ModelManifest.Batching"/>), then apply operator overrides with <c>with</c> and call
/// <see cref="Validate"/>; the batcher validates again at construction.
/// </remarks>
public sealed record BatchingSettings
{
    /// <summary>Queue size per row of <see cref="MaxBatchSize"/> when no queue size is configured.</summary>
    public const int DefaultQueueBatches = 16;

    /// <summary>Longest accepted <see cref="MaxQueueDelay"/>; batching delays are milliseconds, a minute is a misconfiguration.</summary>
    public static readonly TimeSpan MaxQueueDelayLimit = TimeSpan.FromMinutes(1);

    /// <summary>The registry's default hints (32 rows, 5 ms, queue of 512 requests).</summary>
    public static BatchingSettings Default { get; } = FromHints(BatchingHints.Default);

    /// <summary>
    /// Most rows (along the batch axis) in one model run, like Triton's <c>max_batch_size</c>: a
    /// one-row request counts one, a request of k rows counts k, a request to a model without a
    /// batch axis counts one. A single request with more rows is refused (shape_mismatch).
    /// Default 32.
    /// </summary>
    public int MaxBatchSize { get; init; } = BatchingHints.Default.MaxBatchSize;

    /// <summary>
    /// Longest the oldest queued request waits for batch-mates before a partial batch is
    /// dispatched, like Triton's <c>max_queue_delay_microseconds</c>: the upper bound of the
    /// wait. With <see cref="DispatchWhenIdle"/> (the default) a request never waits for
    /// batch-mates while the model is free, so the delay is not waited at all. Default 5 ms.
    /// </summary>
    public TimeSpan MaxQueueDelay { get; init; } = TimeSpan.FromMilliseconds(BatchingHints.Default.MaxQueueDelayMs);

    /// <summary>
    /// Run whatever is queued as soon as the model is free (default true): a request arriving at an
    /// idle model runs alone at once, and the requests that queue while a batch runs make the next
    /// batch (up to <see cref="MaxBatchSize"/> rows). Triton's default (a delay of 0) behaves the
    /// same; Ray Serve waits up to 10 ms. Set false to wait up to <see cref="MaxQueueDelay"/> for a
    /// fuller batch even when idle, for models where one larger batch costs much less than several
    /// small ones (a GPU at low load).
    /// </summary>
    public bool DispatchWhenIdle { get; init; } = true;

    /// <summary>
    /// Batches of one version that may run at once (Triton's instance count), each on a thread of
    /// the batcher, sharing one ONNX Runtime session. More than one helps when a run leaves cores
    /// idle (small models, few intra-op threads) and costs memory for the extra batches. Default 1,
    /// at most <see cref="MaxInstances"/>.
    /// </summary>
    public int Instances { get; init; } = 1;

    /// <summary>Most <see cref="Instances"/> accepted.</summary>
    public const int MaxInstances = 64;

    /// <summary>
    /// Optional latency objective for queue + inference time. When set, the batcher tunes the rows
    /// it puts in a batch (up to <see cref="MaxBatchSize"/>) as Clipper does: one more after a full
    /// batch whose slowest request met the objective (additive increase), 10% fewer after one that
    /// missed it (multiplicative decrease). Null (the default): batches are filled to <see cref="MaxBatchSize"/>.
    /// </summary>
    public TimeSpan? LatencyObjective { get; init; }

    /// <summary>
    /// Most requests waiting for a batch (not counting the batch that is running). Past it
    /// <see cref="DynamicBatcher.Enqueue"/> refuses with queue_full and
    /// <see cref="DynamicBatcher.EnqueueAsync"/> waits for room. Must be at least
    /// <see cref="MaxBatchSize"/> so a full batch can form. Default 16 × <see cref="MaxBatchSize"/>.
    /// </summary>
    public int MaxQueueSize { get; init; } = BatchingHints.Default.MaxBatchSize * DefaultQueueBatches;

    /// <summary>
    /// Settings from a manifest's batching hints; null hints (an old manifest without them) give
    /// <see cref="Default"/>. The queue holds <see cref="DefaultQueueBatches"/> full batches.
    /// </summary>
    public static BatchingSettings FromHints(BatchingHints? hints)
    {
        if (hints is null)
        {
            return Default;
        }

        return new BatchingSettings
        {
            MaxBatchSize = hints.MaxBatchSize,
            MaxQueueDelay = TimeSpan.FromMilliseconds(hints.MaxQueueDelayMs),
            DispatchWhenIdle = hints.DispatchWhenIdle ?? true,
            Instances = hints.Instances ?? 1,
            LatencyObjective = hints.LatencyObjectiveMs is { } objective ? TimeSpan.FromMilliseconds(objective) : null,
            MaxQueueSize = hints.MaxQueueSize ?? (hints.MaxBatchSize > 0 && hints.MaxBatchSize <= int.MaxValue / DefaultQueueBatches
                ? hints.MaxBatchSize * DefaultQueueBatches
                : hints.MaxBatchSize),
        };
    }

    /// <summary>Settings from a manifest's batching hints.</summary>
    public static BatchingSettings FromManifest(ModelManifest manifest)
    {
        ArgumentNullException.ThrowIfNull(manifest);
        return FromHints(manifest.Batching);
    }

    /// <summary>
    /// Throws <see cref="ArgumentException"/> naming the offending setting, prefixed with
    /// <paramref name="keyPrefix"/> (e.g. the configuration section "Mlops:Batching") when given.
    /// </summary>
    public void Validate(string? keyPrefix = null)
    {
        var prefix = string.IsNullOrEmpty(keyPrefix) ? string.Empty : keyPrefix + ":";
        if (MaxBatchSize < 1)
        {
            throw new ArgumentException($"{prefix}{nameof(MaxBatchSize)} must be at least 1, was {MaxBatchSize}");
        }

        if (MaxQueueDelay < TimeSpan.Zero || MaxQueueDelay > MaxQueueDelayLimit)
        {
            throw new ArgumentException(
                $"{prefix}{nameof(MaxQueueDelay)} must be between 0 and {MaxQueueDelayLimit.TotalSeconds.ToString(CultureInfo.InvariantCulture)} s, " +
                $"was {MaxQueueDelay.TotalMilliseconds.ToString(CultureInfo.InvariantCulture)} ms");
        }

        if (Instances < 1 || Instances > MaxInstances)
        {
            throw new ArgumentException($"{prefix}{nameof(Instances)} must be from 1 to {MaxInstances}, was {Instances}");
        }

        if (LatencyObjective is { } objective && (objective <= TimeSpan.Zero || objective > MaxQueueDelayLimit))
        {
            throw new ArgumentException(
                $"{prefix}{nameof(LatencyObjective)} must be above 0 and at most {MaxQueueDelayLimit.TotalSeconds.ToString(CultureInfo.InvariantCulture)} s, " +
                $"was {objective.TotalMilliseconds.ToString(CultureInfo.InvariantCulture)} ms");
        }

        if (MaxQueueSize < MaxBatchSize)
        {
            throw new ArgumentException(
                $"{prefix}{nameof(MaxQueueSize)} must be at least {nameof(MaxBatchSize)} ({MaxBatchSize}) so a full batch can form, was {MaxQueueSize}");
        }
    }

    public override string ToString()
    {
        var dispatch = DispatchWhenIdle
            ? "dispatch when idle"
            : string.Create(CultureInfo.InvariantCulture, $"max queue delay {MaxQueueDelay.TotalMilliseconds} ms");
        var objective = LatencyObjective is { } o
            ? string.Create(CultureInfo.InvariantCulture, $", batch size tuned to {o.TotalMilliseconds} ms")
            : "";
        return $"max batch {MaxBatchSize} rows, {dispatch}, max queue {MaxQueueSize} requests" + (Instances > 1 ? $", {Instances} instances" : "") + objective;
    }
}
