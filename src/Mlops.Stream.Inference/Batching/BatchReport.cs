namespace Mlops.Stream.Inference.Batching;

/// <summary>
/// One finished batch, handed to the <see cref="DynamicBatcher"/>'s report hook (a histogram of
/// batch sizes and run times, a log line). Reported on the batcher's thread after the run and
/// before the batch's callers get their results, so a hook must be quick and must not block.
/// </summary>
/// <param name="ModelVersion">The version that ran the batch.</param>
/// <param name="BatchSize">Requests in the batch.</param>
/// <param name="BatchRows">Rows along the batch axis.</param>
/// <param name="InferenceTime">Duration of the model run.</param>
/// <param name="Served">Requests that got outputs.</param>
/// <param name="Refused">Requests the model refused as invalid (normally zero: they are checked before queueing).</param>
/// <param name="Failed">Requests failed because the run threw (all of the batch, or zero).</param>
/// <param name="QueueDepth">Requests still queued when the batch finished.</param>
public sealed record BatchReport(
    int ModelVersion,
    int BatchSize,
    long BatchRows,
    TimeSpan InferenceTime,
    int Served,
    int Refused,
    int Failed,
    int QueueDepth);

/// <summary>A point-in-time snapshot of a <see cref="DynamicBatcher"/>'s counters, for metrics.</summary>
/// <param name="QueueDepth">Requests waiting for a batch.</param>
/// <param name="WaitingForRoom">Callers of <see cref="DynamicBatcher.EnqueueAsync"/> waiting for queue room.</param>
/// <param name="Executing">Requests in the batch running now.</param>
/// <param name="BatchesRun">Batches handed to the model since start.</param>
/// <param name="RequestsRun">Requests handed to the model since start.</param>
/// <param name="Refused">Requests refused as invalid for the model.</param>
/// <param name="RejectedQueueFull">Requests rejected with queue_full.</param>
/// <param name="RejectedShuttingDown">Requests rejected with shutting_down.</param>
/// <param name="FailedModelRuns">Requests failed with model_failed.</param>
/// <param name="RecentBatchSizes">Request counts of the last batches, oldest first (at most <see cref="DynamicBatcher.RecentBatchCount"/>).</param>
public sealed record BatcherCounters(
    int QueueDepth,
    int WaitingForRoom,
    int Executing,
    long BatchesRun,
    long RequestsRun,
    long Refused,
    long RejectedQueueFull,
    long RejectedShuttingDown,
    long FailedModelRuns,
    IReadOnlyList<int> RecentBatchSizes)
{
    /// <summary>Most rows the next batch takes: <see cref="BatchingSettings.MaxBatchSize"/>, or less while a latency objective holds it back.</summary>
    public int BatchLimit { get; init; }

    /// <summary>Triton's in-flight count: requests queued or executing.</summary>
    public int InFlight => QueueDepth + Executing;
}
