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
        return Inspect(options => new InferenceSession(onnxModel, options), label);
    }

    /// <summary>
    /// Reads the model straight from its file: ONNX Runtime loads it in native memory, released
    /// when the inspection ends, so a large upload is never copied into the managed heap.
    /// </summary>
    /// <exception cref="ModelLoadException">ONNX Runtime cannot load the file, or an input/output is not a supported tensor.</exception>
    public static ModelSignature Read(string path, string? label = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        return Inspect(options => new InferenceSession(path, options), label ?? path);
    }

    private static ModelSignature Inspect(Func<SessionOptions, InferenceSession> open, string label)
    {
        // Optimisations off: only the graph's declared inputs and outputs are needed, and
        // skipping graph rewrites keeps inspection cheap for large models.
        using var options = new SessionOptions { GraphOptimizationLevel = GraphOptimizationLevel.ORT_DISABLE_ALL };
        InferenceSession session;
        try
        {
            session = open(options);
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
}
