using Mlops.Stream.Demo;
using Mlops.Stream.Faults;

namespace Mlops.Stream.Bench.Scenarios;

/// <summary>
/// How much slower the slow-model scenario's slow version is, measured: the median run of a batch of
/// 1 and of 64 rows in ONNX Runtime alone, for the demo network and the fast and slow versions
/// (<see cref="ModelFaults"/>). The scenario's "10x" is the slow / fast ratio.
/// </summary>
public sealed record SlowModelCost(double[] Demo, double[] Fast, double[] Slow)
{
    private static readonly int[] Batches = [1, 64];

    public static SlowModelCost Measure(Action<string> log)
    {
        var demo = DemoModelBuilder.Build().OnnxModel;
        byte[][] models = [demo, FaultModels.WithExtraWork(demo, ModelFaults.FastLayers), FaultModels.WithExtraWork(demo, ModelFaults.SlowLayers)];
        var medians = Batches.Select(b => ModelCost.MedianBatchMilliseconds(models, b)).ToArray();
        var cost = new SlowModelCost([.. medians.Select(m => m[0])], [.. medians.Select(m => m[1])], [.. medians.Select(m => m[2])]);
        for (var i = 0; i < Batches.Length; i++)
            log($"one batch of {Batches[i]} in ONNX Runtime (median, runs taking turns): demo {cost.Demo[i]:F3} ms, fast version {cost.Fast[i]:F3} ms, " +
                $"slow version {cost.Slow[i]:F3} ms: slow / fast {cost.Slow[i] / cost.Fast[i]:F1}x");
        return cost;
    }

    public void AddTo(BenchResult result)
    {
        for (var i = 0; i < Batches.Length; i++)
        {
            var b = Batches[i];
            result.Add($"slow_model_fast_batch{b}_ms", $"slow-model: fast version, one batch of {b} (ORT alone, median)", Fast[i], "ms")
                .Add($"slow_model_slow_batch{b}_ms", $"slow-model: slow version, one batch of {b} (ORT alone, median)", Slow[i], "ms")
                .Add($"slow_model_ratio_batch{b}", $"slow-model: slow / fast, batch of {b}", Slow[i] / Fast[i], "x")
                .Note($"slow_model_demo_batch{b}_ms", Demo[i]);
        }
    }
}
