using System.Collections.Immutable;

namespace Mlops.Stream.Drift.Windows;

/// <summary>
/// What the drift job needs of one served event (written by the serving pipeline to
/// <c>mlops.served.&lt;model&gt;.v1</c>): who served it, when, the inputs the model saw and the
/// outputs it gave (for prediction drift and the feedback join). Timings are left out.
/// </summary>
/// <param name="Id">The request id, which feedback labels name.</param>
/// <param name="Model">The model name the event names.</param>
/// <param name="Version">The model version that served it; windows are kept per version.</param>
/// <param name="ServedAt">The served timestamp: the event time windows are measured in.</param>
/// <param name="Partition">Partition of the served-events record (the body's source_partition is the request topic's, not this).</param>
/// <param name="Offset">Offset of the served-events record, so a window can say which records it used.</param>
/// <param name="Inputs">The input tensors, values widened to double.</param>
public sealed record ServedEvent(
    string Id,
    string Model,
    int Version,
    DateTimeOffset ServedAt,
    int Partition,
    long Offset,
    ImmutableArray<ServedTensor> Inputs)
{
    /// <summary>The output tensors that could be read as numbers (string outputs are left out).</summary>
    public ImmutableArray<ServedTensor> Outputs { get; init; } = [];
}

/// <summary>
/// One input tensor of a served event, flat in row-major order as v2 writes it. Values are doubles
/// because the statistics are; FP32 values are rounded through float first so they equal what the
/// model saw, and BOOL is 0 or 1.
/// </summary>
public sealed record ServedTensor(string Name, ImmutableArray<long> Shape, double[] Values);
