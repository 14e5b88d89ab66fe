using Mlops.Stream.Inference.Wire;

namespace Mlops.Stream.Inference.Batching.Internal;

/// <summary>
/// A request with more rows than one batch may hold, cut into parts of at most a batch each (every
/// input sliced at the same rows, same id and parameters), and the parts' results joined back into
/// the one result the caller asked for: outputs stacked in row order, or the first part that failed.
/// </summary>
internal static class RequestParts
{
    public static InferenceRequest[] Split(InferenceRequest request, long rows, int rowsPerPart)
    {
        var parts = new InferenceRequest[(int)((rows + rowsPerPart - 1) / rowsPerPart)];
        for (var i = 0; i < parts.Length; i++)
        {
            long start = (long)i * rowsPerPart, count = Math.Min(rowsPerPart, rows - start);
            parts[i] = request with { Inputs = [.. request.Inputs.Select(input => input.SliceRows(start, count))] };
        }

        return parts;
    }

    public static BatchResult Join(BatchResult[] results)
    {
        if (results.FirstOrDefault(r => !r.IsServed) is { } failed)
        {
            return failed;
        }

        var first = results[0];
        var outputs = new Tensor[first.Outputs!.Count];
        for (var o = 0; o < outputs.Length; o++)
        {
            outputs[o] = Tensor.ConcatRows([.. results.Select(r => r.Outputs![o])]);
        }

        // The request waited as long as its last part and ran for as long as all its parts together.
        var timings = new BatchTimings(
            results.Max(r => r.Timings!.QueueTime),
            TimeSpan.FromTicks(results.Sum(r => r.Timings!.InferenceTime.Ticks)),
            results.Max(r => r.Timings!.BatchSize),
            results.Max(r => r.Timings!.BatchRows));
        // A swap between two parts (rare: parts queue back to back) leaves outputs of two compatible
        // versions; the answer names the version that ran last, as the swap's later requests do.
        return BatchResult.Served(outputs, first.ModelName, results[^1].ModelVersion, timings);
    }
}
