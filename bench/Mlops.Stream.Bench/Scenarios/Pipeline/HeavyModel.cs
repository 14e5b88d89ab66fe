using Mlops.Stream.Faults;

namespace Mlops.Stream.Bench.Scenarios.Pipeline;

/// <summary>
/// A model whose run dominates a request, for the one goal the demo model cannot show (HTTP batched
/// ≥ 3 × batching off): the demo network with dense layers added (<see cref="FaultModels.WithExtraWork"/>),
/// wide enough that a one-row run streams megabytes of weights through the cache, which a batch does
/// once for all its rows. Same contract and answers as the demo model.
/// </summary>
public sealed record HeavyModel(string Name, byte[] Onnx, int Layers, int Width, double Batch1Ms, double Batch64Ms)
{
    public static HeavyModel Build(string name, byte[] demoOnnx, PipelineSettings settings)
    {
        var onnx = FaultModels.WithExtraWork(demoOnnx, settings.HeavyLayers, settings.HeavyWidth, lanes: 1);
        var cost = new[] { 1, 64 }.Select(batch => ModelCost.MedianBatchMilliseconds([onnx], batch)[0]).ToArray();
        return new HeavyModel(name, onnx, settings.HeavyLayers, settings.HeavyWidth, cost[0], cost[1]);
    }

    /// <summary>How much cheaper a row is in a batch of 64 than alone, in ONNX Runtime alone.</summary>
    public double RowSpeedupAt64 => Batch1Ms / (Batch64Ms / 64);

    public string Describe() =>
        $"heavy model: the demo network + {Layers} dense layers of {Width} units ({Onnx.Length / 1024.0 / 1024:F1} MiB); " +
        $"ONNX Runtime alone: one row {Batch1Ms:F3} ms, 64 rows {Batch64Ms:F3} ms ({RowSpeedupAt64:F1}x cheaper per row)";
}
