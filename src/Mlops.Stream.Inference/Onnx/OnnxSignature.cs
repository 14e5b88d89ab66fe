using Microsoft.ML.OnnxRuntime;
using Mlops.Stream.Inference.Onnx.Internal;
using Mlops.Stream.Inference.Wire;

namespace Mlops.Stream.Inference.Onnx;

/// <summary>
/// Reads a model's signature as ONNX Runtime sees it: used to verify a manifest against the model
/// it describes, and to register a model that arrives without a manifest.
/// </summary>
public static class OnnxSignature
{
    /// <exception cref="ModelLoadException">ONNX Runtime cannot load the bytes, or an input/output is not a supported tensor.</exception>
    public static ModelSignature Read(byte[] onnxModel, string label = "model")
    {
        ArgumentNullException.ThrowIfNull(onnxModel);

        // Optimisations off: only the graph's declared inputs and outputs are needed, and
        // skipping graph rewrites keeps inspection cheap for large models.
        using var options = new SessionOptions { GraphOptimizationLevel = GraphOptimizationLevel.ORT_DISABLE_ALL };
        InferenceSession session;
        try
        {
            session = new InferenceSession(onnxModel, options);
        }
        catch (OnnxRuntimeException e)
        {
            throw new ModelLoadException($"{label}: ONNX Runtime cannot load it: {e.Message}", e);
        }

        using (session)
        {
            return OrtTypes.ReadSignature(session, label);
        }
    }

    public static ModelSignature Read(string path) => Read(File.ReadAllBytes(path), path);
}
