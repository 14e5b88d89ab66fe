using System.Diagnostics;
using Microsoft.ML.OnnxRuntime;
using Mlops.Stream.Bench.Cluster;

namespace Mlops.Stream.Bench.Scenarios.Pipeline;

/// <summary>
/// ONNX Runtime alone on the model file: rows per second at each batch size (one input tensor
/// reused, outputs dropped), median of three short runs per size, and the best size.
/// </summary>
public static class ModelCeiling
{
    private const int Runs = 3;
    private static readonly TimeSpan RunTime = TimeSpan.FromMilliseconds(600);

    public sealed record Result(IReadOnlyDictionary<int, double> RowsPerSecond)
    {
        public int BestBatch => RowsPerSecond.MaxBy(r => r.Value).Key;

        public double Best => RowsPerSecond[BestBatch];
    }

    public static Result Measure(RawModel model, int[] batchSizes)
    {
        var rates = new Dictionary<int, List<double>>();
        for (var run = 0; run < Runs; run++)
        {
            // Alternate the order of sizes between runs, so none always runs first or last.
            foreach (var batch in run % 2 == 0 ? batchSizes : batchSizes.Reverse())
            {
                var features = new float[batch * DemoRequests.FeatureCount];
                for (var row = 0; row < batch; row++) DemoRequests.Row.CopyTo(features.AsSpan(row * DemoRequests.FeatureCount));
                using var input = OrtValue.CreateTensorValueFromMemory(features, [batch, DemoRequests.FeatureCount]);
                for (var i = 0; i < 50; i++) model.RunOnly(input);
                var stopwatch = Stopwatch.StartNew();
                var calls = 0L;
                while (stopwatch.Elapsed < RunTime)
                {
                    model.RunOnly(input);
                    calls++;
                }
                (rates.TryGetValue(batch, out var list) ? list : rates[batch] = []).Add(calls * batch / stopwatch.Elapsed.TotalSeconds);
            }
        }
        return new Result(rates.ToDictionary(r => r.Key, r => r.Value.Order().ElementAt(r.Value.Count / 2)));
    }
}
