using System.Collections.Immutable;
using System.Text.Json;

namespace Mlops.Stream.Inference.Wire.Internal;

/// <summary>
/// Reads a v2 "data" array, flat row-major or nested, into a typed flat array of exactly the
/// element count the shape declares. Nested data must match the shape at every depth; flat data
/// must have the declared element count. One pass, no intermediate boxes or lists.
/// </summary>
internal static class TensorDataReader
{
    public static Array Read(
        ref Utf8JsonReader reader, string label, TensorDataType type, ImmutableArray<long> shape, int count, bool allowNonFinite) =>
        type switch
        {
            TensorDataType.Fp32 => Read<float, Fp32Parser>(ref reader, label, type, shape, count, allowNonFinite),
            TensorDataType.Fp64 => Read<double, Fp64Parser>(ref reader, label, type, shape, count, allowNonFinite),
            TensorDataType.Int32 => Read<int, Int32Parser>(ref reader, label, type, shape, count, allowNonFinite),
            TensorDataType.Int64 => Read<long, Int64Parser>(ref reader, label, type, shape, count, allowNonFinite),
            TensorDataType.Bool => Read<bool, BoolParser>(ref reader, label, type, shape, count, allowNonFinite),
            _ => throw new ArgumentOutOfRangeException(nameof(type), type, "unknown tensor data type"),
        };

    private static T[] Read<T, TParser>(
        ref Utf8JsonReader reader, string label, TensorDataType type, ImmutableArray<long> shape, int count, bool allowNonFinite)
        where T : unmanaged
        where TParser : IElementParser<T>
    {
        if (reader.TokenType != JsonTokenType.StartArray)
        {
            throw JsonReading.Invalid($"{label}: \"data\" must be a JSON array, found {JsonReading.Describe(ref reader)}");
        }

        var values = count == 0 ? [] : new T[count];
        var rank = shape.Length;

        // lengths[d] counts the children seen so far of the open array at depth d (0 = outermost).
        Span<long> lengths = stackalloc long[rank + 1];
        var depth = 1;
        bool? nested = null;
        long total = 0;

        while (true)
        {
            JsonReading.Next(ref reader);
            switch (reader.TokenType)
            {
                case JsonTokenType.StartArray:
                    nested ??= true;
                    if (nested == false)
                    {
                        throw Shape(label, $"data mixes values and nested arrays; shape {Tensor.FormatShape(shape.AsSpan())} needs one or the other");
                    }

                    if (depth >= rank)
                    {
                        throw Shape(label, $"data is nested deeper than shape {Tensor.FormatShape(shape.AsSpan())} allows");
                    }

                    lengths[depth - 1]++;
                    depth++;
                    lengths[depth - 1] = 0;
                    break;

                case JsonTokenType.EndArray:
                    if (nested == true && lengths[depth - 1] != shape[depth - 1])
                    {
                        throw Shape(
                            label,
                            $"nested data does not match shape {Tensor.FormatShape(shape.AsSpan())}: an array at depth {depth - 1} " +
                            $"has {lengths[depth - 1]} elements, expected {shape[depth - 1]}");
                    }

                    depth--;
                    if (depth == 0)
                    {
                        if (nested != true && total != count)
                        {
                            throw Shape(label, $"shape {Tensor.FormatShape(shape.AsSpan())} needs {count} elements but data has {total}");
                        }

                        return values;
                    }

                    break;

                default:
                    nested ??= false;
                    if (nested == true && depth != rank)
                    {
                        throw Shape(
                            label,
                            $"nested data does not match shape {Tensor.FormatShape(shape.AsSpan())}: a value at depth {depth - 1} where an array is expected");
                    }

                    lengths[depth - 1]++;
                    if (total < count)
                    {
                        var status = TParser.Parse(ref reader, out values[total]);
                        if (status != ElementStatus.Ok)
                        {
                            Reject<T>(ref reader, status, label, type, total, values[total], allowNonFinite);
                        }
                    }

                    total++;
                    break;
            }
        }
    }

    private static void Reject<T>(
        ref Utf8JsonReader reader, ElementStatus status, string label, TensorDataType type, long index, T value, bool allowNonFinite)
        where T : unmanaged
    {
        if (status == ElementStatus.NonFinite)
        {
            if (allowNonFinite)
            {
                return;
            }

            var number = value switch
            {
                float f => (double)f,
                double d => d,
                _ => double.NaN,
            };
            throw new InferenceRequestException(
                InferenceErrorCode.NonFinite,
                $"{label}: element {index} is {NonFiniteLiterals.Name(number)}; non-finite values are rejected");
        }

        throw new InferenceRequestException(
            InferenceErrorCode.DtypeMismatch,
            $"{label}: element {index} ({JsonReading.Describe(ref reader)}) is not a valid {type.ToWireName()} value");
    }

    private static InferenceRequestException Shape(string label, string message) =>
        new(InferenceErrorCode.ShapeMismatch, $"{label}: {message}");
}
