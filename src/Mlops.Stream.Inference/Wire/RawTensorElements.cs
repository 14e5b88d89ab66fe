using System.Buffers.Binary;
using System.Text.Json;

namespace Mlops.Stream.Inference.Wire;

/// <summary>
/// The Open Inference Protocol's raw tensor layout, used by gRPC's raw contents and HTTP's binary
/// tensor extension alike: flat row-major elements, little-endian whatever the machine, no padding,
/// BOOL one byte (0 false, anything else true).
/// </summary>
public static class RawTensorElements
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

    /// <summary>
    /// Writes raw elements as the values of a v2 JSON <c>data</c> array (the caller writes the
    /// brackets), so the one v2 codec decodes and validates them. Floats are written in their
    /// shortest round-trip form (the model sees bit for bit what was sent); NaN and infinities as
    /// the strings the codec reads ("NaN", "Infinity", "-Infinity"), so it refuses them as
    /// non_finite exactly as in a JSON body. <paramref name="raw"/> must be a whole number of elements.
    /// </summary>
    public static void WriteJsonValues(Utf8JsonWriter writer, TensorDataType type, ReadOnlySpan<byte> raw)
    {
        var size = Size(type);
        for (var at = 0; at + size <= raw.Length; at += size)
        {
            var element = raw[at..];
            switch (type)
            {
                case TensorDataType.Bool: writer.WriteBooleanValue(element[0] != 0); break;
                case TensorDataType.Int32: writer.WriteNumberValue(BinaryPrimitives.ReadInt32LittleEndian(element)); break;
                case TensorDataType.Int64: writer.WriteNumberValue(BinaryPrimitives.ReadInt64LittleEndian(element)); break;
                case TensorDataType.Fp32: WriteJsonFloat(writer, BinaryPrimitives.ReadSingleLittleEndian(element)); break;
                case TensorDataType.Fp64: WriteJsonFloat(writer, BinaryPrimitives.ReadDoubleLittleEndian(element)); break;
            }
        }
    }

    /// <summary>A float as a v2 JSON value: a number, or "NaN", "Infinity", "-Infinity".</summary>
    public static void WriteJsonFloat(Utf8JsonWriter writer, double value)
    {
        if (double.IsFinite(value))
        {
            writer.WriteNumberValue(value);
        }
        else
        {
            writer.WriteStringValue(double.IsNaN(value) ? "NaN" : value > 0 ? "Infinity" : "-Infinity");
        }
    }

    /// <inheritdoc cref="WriteJsonFloat(Utf8JsonWriter, double)"/>
    public static void WriteJsonFloat(Utf8JsonWriter writer, float value)
    {
        if (float.IsFinite(value))
        {
            writer.WriteNumberValue(value);
        }
        else
        {
            WriteJsonFloat(writer, (double)value);
        }
    }
}
