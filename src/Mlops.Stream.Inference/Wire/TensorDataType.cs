using System.Text.Json.Serialization;
using Mlops.Stream.Inference.Wire.Internal;

namespace Mlops.Stream.Inference.Wire;

/// <summary>
/// Element types the service decodes, validates and runs. Names on the wire are the Open
/// Inference Protocol (KServe v2) ones ("FP32", "INT64", ...); see <see cref="TensorDataTypes"/>.
/// </summary>
[JsonConverter(typeof(TensorDataTypeJsonConverter))]
public enum TensorDataType
{
    Bool = 1,
    Int32 = 2,
    Int64 = 3,
    Fp32 = 4,
    Fp64 = 5,
}

/// <summary>Conversions between <see cref="TensorDataType"/>, v2 wire names and CLR element types.</summary>
public static class TensorDataTypes
{
    /// <summary>The v2 datatype string, e.g. "FP32".</summary>
    public static string ToWireName(this TensorDataType type) => type switch
    {
        TensorDataType.Bool => "BOOL",
        TensorDataType.Int32 => "INT32",
        TensorDataType.Int64 => "INT64",
        TensorDataType.Fp32 => "FP32",
        TensorDataType.Fp64 => "FP64",
        _ => throw new ArgumentOutOfRangeException(nameof(type), type, "unknown tensor data type"),
    };

    /// <summary>Parses a v2 datatype string. Exact, upper-case match as the protocol specifies.</summary>
    public static bool TryParse(ReadOnlySpan<char> wireName, out TensorDataType type)
    {
        switch (wireName)
        {
            case "BOOL": type = TensorDataType.Bool; return true;
            case "INT32": type = TensorDataType.Int32; return true;
            case "INT64": type = TensorDataType.Int64; return true;
            case "FP32": type = TensorDataType.Fp32; return true;
            case "FP64": type = TensorDataType.Fp64; return true;
            default: type = default; return false;
        }
    }

    /// <summary>Parses a v2 datatype string or throws <see cref="FormatException"/> naming the supported ones.</summary>
    public static TensorDataType Parse(string wireName) =>
        TryParse(wireName, out var type)
            ? type
            : throw new FormatException($"unsupported datatype '{wireName}' (supported: {SupportedNames})");

    /// <summary>The supported wire names, for error messages.</summary>
    public const string SupportedNames = "BOOL, INT32, INT64, FP32, FP64";

    /// <summary>The CLR element type that holds values of <paramref name="type"/>.</summary>
    public static Type ClrType(this TensorDataType type) => type switch
    {
        TensorDataType.Bool => typeof(bool),
        TensorDataType.Int32 => typeof(int),
        TensorDataType.Int64 => typeof(long),
        TensorDataType.Fp32 => typeof(float),
        TensorDataType.Fp64 => typeof(double),
        _ => throw new ArgumentOutOfRangeException(nameof(type), type, "unknown tensor data type"),
    };

    /// <summary>True for the floating-point types, the only ones that can hold NaN or infinity.</summary>
    public static bool IsFloatingPoint(this TensorDataType type) =>
        type is TensorDataType.Fp32 or TensorDataType.Fp64;

    /// <summary>Maps a CLR element type to its data type; the JIT folds this to a constant per T.</summary>
    public static TensorDataType Of<T>() where T : unmanaged
    {
        if (typeof(T) == typeof(float)) return TensorDataType.Fp32;
        if (typeof(T) == typeof(double)) return TensorDataType.Fp64;
        if (typeof(T) == typeof(long)) return TensorDataType.Int64;
        if (typeof(T) == typeof(int)) return TensorDataType.Int32;
        if (typeof(T) == typeof(bool)) return TensorDataType.Bool;
        throw new NotSupportedException($"element type {typeof(T).Name} is not a supported tensor type ({SupportedNames})");
    }
}
