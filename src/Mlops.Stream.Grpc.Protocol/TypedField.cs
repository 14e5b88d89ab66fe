using Mlops.Stream.Inference.Wire;

namespace Mlops.Stream.Grpc.Protocol;

/// <summary>Which <see cref="InferTensorContents"/> field holds a datatype's elements, by its proto name (for messages).</summary>
internal static class TypedField
{
    public static string For(TensorDataType type) => type switch
    {
        TensorDataType.Bool => "bool_contents",
        TensorDataType.Int32 => "int_contents",
        TensorDataType.Int64 => "int64_contents",
        TensorDataType.Fp32 => "fp32_contents",
        TensorDataType.Fp64 => "fp64_contents",
        _ => throw new ArgumentOutOfRangeException(nameof(type), type, "unknown tensor data type"),
    };

    /// <summary>The first field that holds elements, or null when all are empty.</summary>
    public static string? Populated(InferTensorContents contents) =>
        contents.BoolContents.Count > 0 ? "bool_contents"
        : contents.IntContents.Count > 0 ? "int_contents"
        : contents.Int64Contents.Count > 0 ? "int64_contents"
        : contents.UintContents.Count > 0 ? "uint_contents"
        : contents.Uint64Contents.Count > 0 ? "uint64_contents"
        : contents.Fp32Contents.Count > 0 ? "fp32_contents"
        : contents.Fp64Contents.Count > 0 ? "fp64_contents"
        : contents.BytesContents.Count > 0 ? "bytes_contents"
        : null;
}
