using System.Diagnostics;
using Mlops.Stream.Inference.Onnx;
using Mlops.Stream.Inference.Wire;

namespace Mlops.Stream.Bench.Scenarios;

/// <summary>
/// What one batch of each of several models costs in ONNX Runtime alone (no node, queue or Kafka):
/// the median time of a run of <c>batch</c> rows of 30 features, after a warm-up, on the options the
/// node uses by default. The models take turns run by run, so a change in the machine's load while
/// it measures falls on all of them alike and their ratio holds better than their times.
/// </summary>
public static class ModelCost
{
    public static double[] MedianBatchMilliseconds(IReadOnlyList<byte[]> onnx, int batch, int runs = 30)
    {
        var models = onnx.Select((bytes, i) => OnnxModel.Load($"cost-{i}", 1, bytes)).ToArray();
        try
        {
            var requests = Enumerable.Range(0, batch)
                .Select(i => new InferenceRequest($"cost-{i}", [Tensor.Create("features", Row(i), 1, 30)]))
                .ToArray();
            foreach (var model in models)
                for (var i = 0; i < 3; i++) Run(model, requests);
            var times = models.Select(_ => new double[runs]).ToArray();
            for (var run = 0; run < runs; run++)
            {
                for (var m = 0; m < models.Length; m++)
                {
                    var clock = Stopwatch.StartNew();
                    Run(models[m], requests);
                    times[m][run] = clock.Elapsed.TotalMilliseconds;
                }
            }
            return [.. times.Select(t => ReplicaBench.Percentile([.. t.Order()], 0.5))];
        }
        finally
        {
            foreach (var model in models) model.Dispose();
        }
    }

    private static void Run(OnnxModel model, InferenceRequest[] requests)
    {
        var outcome = model.Run(requests);
        if (!outcome[0].IsSuccess) throw new InvalidOperationException($"the cost run failed: {outcome[0].Error!.Message}");
    }

    private static float[] Row(int i) => [.. Enumerable.Range(0, 30).Select(j => (i * 31 + j * 7) % 101 / 101f)];
}
