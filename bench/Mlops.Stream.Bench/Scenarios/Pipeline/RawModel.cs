using Microsoft.ML.OnnxRuntime;
using Mlops.Stream.Bench.Cluster;

namespace Mlops.Stream.Bench.Scenarios.Pipeline;

/// <summary>
/// The demo model's ONNX file in a bare ONNX Runtime session, built as the node builds its sessions
/// (all graph optimisations, ONNX Runtime's own thread counts): what a user without the server would
/// run; on CUDA when asked (a build with <c>-p:OnnxRuntimeGpu=true</c> on a machine with a GPU). Input <c>features</c> FP32 [rows, 30]; outputs <c>probabilities</c> FP32 [rows, 2], <c>label</c> INT64 [rows].
/// </summary>
public sealed class RawModel : IDisposable
{
    private readonly SessionOptions _options = new() { GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL };
    private readonly RunOptions _run = new();
    private readonly InferenceSession _session;
    private readonly string[] _inputs;
    private readonly string[] _outputs;

    public RawModel(byte[] onnx, bool cuda = false)
    {
        if (cuda) _options.AppendExecutionProvider_CUDA(0);
        _session = new InferenceSession(onnx, _options);
        _inputs = [.. _session.InputNames];
        _outputs = [.. _session.OutputNames];
    }

    /// <summary>Runs <paramref name="rows"/> rows of 30 features and returns copies of both outputs.</summary>
    public (float[] Probabilities, long[] Labels) Run(float[] features, int rows)
    {
        using var input = OrtValue.CreateTensorValueFromMemory(features, [rows, DemoRequests.FeatureCount]);
        using var outputs = _session.Run(_run, _inputs, [input], _outputs);
        return (outputs[0].GetTensorDataAsSpan<float>().ToArray(), outputs[1].GetTensorDataAsSpan<long>().ToArray());
    }

    /// <summary>Runs the rows and drops the outputs: the model's own cost, nothing copied.</summary>
    public void RunOnly(OrtValue input)
    {
        using var outputs = _session.Run(_run, _inputs, [input], _outputs);
    }

    public void Dispose()
    {
        _session.Dispose();
        _run.Dispose();
        _options.Dispose();
    }
}
