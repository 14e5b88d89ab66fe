using System.Diagnostics;
using Mlops.Stream.Inference.Onnx;
using Mlops.Stream.Inference.Wire;

namespace Mlops.Stream.Bench.Scenarios;

/// <summary>
/// What one batch of a model costs in ONNX Runtime alone (no node, queue or Kafka): the median time
/// of a run of <c>batch</c> rows of 30 features, after a warm-up, on the options the node uses by default.
/// </summary>
public static class ModelCost
{
    public static double MedianBatchMilliseconds(byte[] onnx, int batch, int runs = 30)
    {
        using var model = OnnxModel.Load("cost", 1, onnx);
        var requests = Enumerable.Range(0, batch)
            .Select(i => new InferenceRequest($"cost-{i}", [Tensor.Create("features", Row(i), 1, 30)]))
            .ToArray();
        for (var i = 0; i < 3; i++) Run(model, requests);
        var times = new double[runs];
        for (var i = 0; i < runs; i++)
        {
            var clock = Stopwatch.StartNew();
            Run(model, requests);
            times[i] = clock.Elapsed.TotalMilliseconds;
        }
        return ReplicaBench.Percentile([.. times.Order()], 0.5);
    }

    private static void Run(OnnxModel model, InferenceRequest[] requests)
    {
        var outcome = model.Run(requests);
        if (!outcome[0].IsSuccess) throw new InvalidOperationException($"the cost run failed: {outcome[0].Error!.Message}");
    }

    private static float[] Row(int i) => [.. Enumerable.Range(0, 30).Select(j => (i * 31 + j * 7) % 101 / 101f)];
}
