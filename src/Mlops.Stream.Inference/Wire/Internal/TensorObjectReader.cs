using System.Collections.Immutable;
using System.Text.Json;

namespace Mlops.Stream.Inference.Wire.Internal;

/// <summary>
/// Reads one v2 tensor object (<c>{"name","shape","datatype","data","parameters"?}</c>).
/// JSON objects are unordered, so "data" may come before "shape" or "datatype". The reader is
/// a struct: copying it checkpoints the position of "shape" and "data", which are skipped and
/// parsed once the whole object is known. That way the element array is allocated once, at its
/// final size and type, and every error message can name the tensor.
/// </summary>
internal static class TensorObjectReader
{
    /// <param name="role">"input" or "output", for messages.</param>
    /// <param name="maxElements">Bound on declared elements (also the body size when known).</param>
    public static Tensor Read(ref Utf8JsonReader reader, string role, int index, DecodeOptions options, long maxElements, bool allowNonFinite)
    {
        if (reader.TokenType != JsonTokenType.StartObject)
        {
            throw JsonReading.Invalid($"{role} #{index} must be a JSON object, found {JsonReading.Describe(ref reader)}");
        }

        string? name = null;
        string? datatype = null;
        Dictionary<string, JsonElement>? parameters = null;
        var shapeReader = default(Utf8JsonReader);
        var dataReader = default(Utf8JsonReader);
        var hasShape = false;
        var hasData = false;

        while (true)
        {
            JsonReading.Next(ref reader);
            if (reader.TokenType == JsonTokenType.EndObject)
            {
                break;
            }

            if (reader.ValueTextEquals("name"u8))
            {
                name = JsonReading.ReadString(ref reader, $"{role} #{index}: \"name\"");
            }
            else if (reader.ValueTextEquals("datatype"u8))
            {
                datatype = JsonReading.ReadString(ref reader, $"{role} #{index}: \"datatype\"");
            }
            else if (reader.ValueTextEquals("shape"u8))
            {
                JsonReading.Next(ref reader);
                shapeReader = reader;
                hasShape = true;
                JsonReading.SkipValue(ref reader);
            }
            else if (reader.ValueTextEquals("data"u8))
            {
                JsonReading.Next(ref reader);
                dataReader = reader;
                hasData = true;
                JsonReading.SkipValue(ref reader);
            }
            else if (reader.ValueTextEquals("parameters"u8))
            {
                parameters = JsonReading.ReadParameters(ref reader, $"{role} #{index}");
            }
            else
            {
                // Unknown members are ignored, as v2 servers do, so newer clients keep working.
                JsonReading.Next(ref reader);
                JsonReading.SkipValue(ref reader);
            }
        }

        if (string.IsNullOrEmpty(name))
        {
            throw JsonReading.Invalid($"{role} #{index} has no \"name\"");
        }

        var label = $"{role} '{name}'";
        if (datatype is null)
        {
            throw JsonReading.Invalid($"{label} has no \"datatype\"");
        }

        if (!TensorDataTypes.TryParse(datatype, out var type))
        {
            throw new InferenceRequestException(
                InferenceErrorCode.UnsupportedDatatype,
                $"{label} has datatype '{datatype}', which is not supported (supported: {TensorDataTypes.SupportedNames})");
        }

        if (!hasShape)
        {
            throw new InferenceRequestException(InferenceErrorCode.ShapeMismatch, $"{label} has no \"shape\"");
        }

        var shape = ReadShape(ref shapeReader, label, options.MaxRank);
        var limit = Math.Min(Math.Min(options.MaxElementsPerTensor, maxElements), Array.MaxLength);
        if (!TryCountElements(shape, limit, out var count))
        {
            throw new InferenceRequestException(
                InferenceErrorCode.ShapeMismatch,
                $"{label}: shape {Tensor.FormatShape(shape.AsSpan())} declares more elements than the limit of {limit}");
        }

        if (!hasData)
        {
            throw JsonReading.Invalid($"{label} has no \"data\" (binary tensor data is not supported)");
        }

        var data = TensorDataReader.Read(ref dataReader, label, type, shape, (int)count, allowNonFinite);
        return Wrap(name, type, shape, data, parameters);
    }

    private static ImmutableArray<long> ReadShape(ref Utf8JsonReader reader, string label, int maxRank)
    {
        if (reader.TokenType != JsonTokenType.StartArray)
        {
            throw BadShape(label);
        }

        var dims = ImmutableArray.CreateBuilder<long>();
        while (true)
        {
            JsonReading.Next(ref reader);
            if (reader.TokenType == JsonTokenType.EndArray)
            {
                return dims.ToImmutable();
            }

            if (reader.TokenType != JsonTokenType.Number || !reader.TryGetInt64(out var dim) || dim < 0)
            {
                throw BadShape(label);
            }

            if (dims.Count == maxRank)
            {
                throw new InferenceRequestException(
                    InferenceErrorCode.ShapeMismatch, $"{label}: \"shape\" has more than {maxRank} dimensions");
            }

            dims.Add(dim);
        }
    }

    /// <summary>Product of the dimensions, refusing (without overflowing) anything above <paramref name="limit"/>.</summary>
    private static bool TryCountElements(ImmutableArray<long> shape, long limit, out long count)
    {
        count = 1;
        foreach (var dim in shape)
        {
            if (dim == 0)
            {
                count = 0;
                return true;
            }
        }

        foreach (var dim in shape)
        {
            if (count > limit / dim)
            {
                return false;
            }

            count *= dim;
        }

        return count <= limit;
    }

    private static InferenceRequestException BadShape(string label) =>
        new(InferenceErrorCode.ShapeMismatch, $"{label}: \"shape\" must be an array of non-negative integers");

    private static Tensor Wrap(string name, TensorDataType type, ImmutableArray<long> shape, Array data, Dictionary<string, JsonElement>? parameters)
    {
        var dims = shape.AsSpan();
        var tensor = type switch
        {
            TensorDataType.Fp32 => Tensor.Create(name, (float[])data, dims),
            TensorDataType.Fp64 => Tensor.Create(name, (double[])data, dims),
            TensorDataType.Int32 => Tensor.Create(name, (int[])data, dims),
            TensorDataType.Int64 => Tensor.Create(name, (long[])data, dims),
            TensorDataType.Bool => Tensor.Create(name, (bool[])data, dims),
            _ => throw new ArgumentOutOfRangeException(nameof(type), type, "unknown tensor data type"),
        };
        return parameters is null ? tensor : tensor.WithParameters(parameters);
    }
}
