using System.Diagnostics.CodeAnalysis;
using Mlops.Stream.Inference.Wire;

namespace Mlops.Stream.Inference.Batching;

/// <summary>What became of a batch a request ran in: sizes and durations for served events and metrics.</summary>
/// <param name="QueueTime">From the enqueue call (including any wait for room) until its batch started.</param>
/// <param name="InferenceTime">The model run of the whole batch (every request of a batch reports the same).</param>
/// <param name="BatchSize">Requests in the batch.</param>
/// <param name="BatchRows">Rows along the batch axis in the batch (equals <paramref name="BatchSize"/> for one-row requests).</param>
public sealed record BatchTimings(TimeSpan QueueTime, TimeSpan InferenceTime, int BatchSize, long BatchRows);

/// <summary>
/// The result of one request given to a <see cref="DynamicBatcher"/>: exactly one of
/// <see cref="Outputs"/> (served), <see cref="Error"/> (the request is invalid for the model:
/// HTTP 400, Kafka dead letter) or <see cref="Rejection"/> (the batcher did not run it:
/// queue_full, shutting_down, model_failed).
/// </summary>
public sealed class BatchResult
{
    private BatchResult(
        IReadOnlyList<Tensor>? outputs,
        InferenceError? error,
        BatchRejection? rejection,
        string modelName,
        int modelVersion,
        BatchTimings? timings)
    {
        Outputs = outputs;
        Error = error;
        Rejection = rejection;
        ModelName = modelName;
        ModelVersion = modelVersion;
        Timings = timings;
    }

    /// <summary>Outputs in model order, filtered to the requested ones; each has this request's rows.</summary>
    public IReadOnlyList<Tensor>? Outputs { get; }

    /// <summary>Why the request does not fit the model; null unless refused.</summary>
    public InferenceError? Error { get; }

    /// <summary>Why the batcher did not run the request; null unless rejected.</summary>
    public BatchRejection? Rejection { get; }

    [MemberNotNullWhen(true, nameof(Outputs))]
    [MemberNotNullWhen(true, nameof(Timings))]
    public bool IsServed => Outputs is not null;

    /// <summary>The model the request was run on or checked against (after a swap, the one that ran it).</summary>
    public string ModelName { get; }

    /// <summary>Version of <see cref="ModelName"/>: what predictions and served events record.</summary>
    public int ModelVersion { get; }

    /// <summary>Queue time, inference time and batch size; null when the request never reached a batch.</summary>
    public BatchTimings? Timings { get; }

    public static BatchResult Served(IReadOnlyList<Tensor> outputs, string modelName, int modelVersion, BatchTimings timings)
    {
        ArgumentNullException.ThrowIfNull(outputs);
        ArgumentNullException.ThrowIfNull(timings);
        return new(outputs, null, null, modelName, modelVersion, timings);
    }

    public static BatchResult Refused(InferenceError error, string modelName, int modelVersion, BatchTimings? timings = null)
    {
        ArgumentNullException.ThrowIfNull(error);
        return new(null, error, null, modelName, modelVersion, timings);
    }

    public static BatchResult Rejected(BatchRejection rejection, string modelName, int modelVersion, BatchTimings? timings = null)
    {
        ArgumentNullException.ThrowIfNull(rejection);
        return new(null, null, rejection, modelName, modelVersion, timings);
    }

    public override string ToString() =>
        IsServed ? $"served by '{ModelName}' v{ModelVersion} ({Timings})"
        : Error is not null ? $"refused: {Error}"
        : $"rejected: {Rejection}";
}
