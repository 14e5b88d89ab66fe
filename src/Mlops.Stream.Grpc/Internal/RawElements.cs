using System.Buffers.Binary;
using Mlops.Stream.Inference.Wire;

namespace Mlops.Stream.Grpc.Internal;

/// <summary>
/// The protocol's raw tensor layout: flat row-major elements, little-endian whatever the machine,
/// no padding, BOOL one byte (0 false, anything else true).
/// </summary>
internal static class RawElements
{
    public static int Size(TensorDataType type) => type switch
    {
        TensorDataType.Bool => 1,
        TensorDataType.Int32 or TensorDataType.Fp32 => 4,
        TensorDataType.Int64 or TensorDataType.Fp64 => 8,
        _ => throw new ArgumentOutOfRangeException(nameof(type), type, "unknown tensor data type"),
    };

    /// <summary>A tensor's elements in the raw layout.</summary>
    public static byte[] Of(Tensor tensor)
    {
        var size = Size(tensor.DataType);
        var bytes = new byte[tensor.ElementCount * size];
        var span = bytes.AsSpan();
        switch (tensor.DataType)
        {
            case TensorDataType.Bool:
                var flags = tensor.Span<bool>();
                for (var i = 0; i < flags.Length; i++) span[i] = flags[i] ? (byte)1 : (byte)0;
                break;
            case TensorDataType.Int32:
                var ints = tensor.Span<int>();
                for (var i = 0; i < ints.Length; i++) BinaryPrimitives.WriteInt32LittleEndian(span[(i * size)..], ints[i]);
                break;
            case TensorDataType.Int64:
                var longs = tensor.Span<long>();
                for (var i = 0; i < longs.Length; i++) BinaryPrimitives.WriteInt64LittleEndian(span[(i * size)..], longs[i]);
                break;
            case TensorDataType.Fp32:
                var floats = tensor.Span<float>();
                for (var i = 0; i < floats.Length; i++) BinaryPrimitives.WriteSingleLittleEndian(span[(i * size)..], floats[i]);
                break;
            case TensorDataType.Fp64:
                var doubles = tensor.Span<double>();
                for (var i = 0; i < doubles.Length; i++) BinaryPrimitives.WriteDoubleLittleEndian(span[(i * size)..], doubles[i]);
                break;
        }
        return bytes;
    }
}
