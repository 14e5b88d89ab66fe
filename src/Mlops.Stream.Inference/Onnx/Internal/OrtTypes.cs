using System.Collections.Immutable;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using Mlops.Stream.Inference.Wire;

namespace Mlops.Stream.Inference.Onnx.Internal;

/// <summary>Maps ONNX Runtime metadata to our signature types. The only place that knows both.</summary>
internal static class OrtTypes
{
    public static bool TryMap(TensorElementType type, out TensorDataType dataType)
    {
        switch (type)
        {
            case TensorElementType.Float: dataType = TensorDataType.Fp32; return true;
            case TensorElementType.Double: dataType = TensorDataType.Fp64; return true;
            case TensorElementType.Int32: dataType = TensorDataType.Int32; return true;
            case TensorElementType.Int64: dataType = TensorDataType.Int64; return true;
            case TensorElementType.Bool: dataType = TensorDataType.Bool; return true;
            default: dataType = default; return false;
        }
    }

    /// <summary>
    /// Reads the session's inputs and outputs in model order. Symbolic dimensions ("batch", "N")
    /// come back from ONNX Runtime as -1, which is exactly our "any size" marker.
    /// </summary>
    public static ModelSignature ReadSignature(InferenceSession session, string label) =>
        new(
            [.. session.InputNames.Select(name => Spec("input", name, session.InputMetadata[name], label))],
            [.. session.OutputNames.Select(name => Spec("output", name, session.OutputMetadata[name], label))]);

    private static TensorSpec Spec(string role, string name, NodeMetadata metadata, string label)
    {
        if (!metadata.IsTensor)
        {
            throw new ModelLoadException($"{label}: {role} '{name}' is a {metadata.OnnxValueType}, only tensors are supported");
        }

        if (!TryMap(metadata.ElementDataType, out var type))
        {
            throw new ModelLoadException(
                $"{label}: {role} '{name}' has element type {metadata.ElementDataType}; supported: {TensorDataTypes.SupportedNames}");
        }

        return new TensorSpec(name, type, [.. metadata.Dimensions.Select(d => d < 0 ? TensorSpec.DynamicDimension : (long)d)]);
    }
}
