using System.Collections.Immutable;
using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using System.Text.Json;
using Mlops.Stream.Inference.Wire;

namespace Mlops.Stream.Drift.Windows;

/// <summary>
/// Reads the served-event JSON that <c>ServingRecords.ServedEvent</c> writes. Returns a typed
/// failure instead of throwing, because one bad record on the topic must never stop the drift job.
/// Tensor data is read flat (as the serving pipeline writes it), with the v2 non-finite literals
/// "NaN", "Infinity" and "-Infinity" accepted so data quality can count them.
/// </summary>
public static class ServedEventReader
{
    private static readonly JsonReaderOptions ReaderOptions = new() { MaxDepth = 64 };

    /// <summary>
    /// Reads one served event. <paramref name="partition"/> and <paramref name="offset"/> are the
    /// served-events record's own coordinates (the body only knows the request topic's).
    /// </summary>
    public static bool TryRead(
        ReadOnlySpan<byte> utf8Json,
        int partition,
        long offset,
        [NotNullWhen(true)] out ServedEvent? served,
        [NotNullWhen(false)] out ServedEventFailure? failure)
    {
        served = null;
        failure = null;
        try
        {
            var reader = new Utf8JsonReader(utf8Json, ReaderOptions);
            using var document = JsonDocument.ParseValue(ref reader);
            var reason = Read(document.RootElement, partition, offset, out served, out var detail);
            if (reason is { } r)
            {
                failure = new ServedEventFailure(r, detail, partition, offset);
                return false;
            }

            return served is not null;
        }
        catch (JsonException e)
        {
            failure = new ServedEventFailure(ServedEventFailureReason.Unreadable, $"not JSON: {e.Message}", partition, offset);
            return false;
        }
    }

    private static ServedEventFailureReason? Read(JsonElement root, int partition, long offset, out ServedEvent? served, out string detail)
    {
        served = null;
        detail = "";
        if (root.ValueKind != JsonValueKind.Object)
        {
            detail = $"expected a JSON object, got {root.ValueKind}";
            return ServedEventFailureReason.Unreadable;
        }

        foreach (var name in (ReadOnlySpan<string>)["id", "model", "version", "served_timestamp"])
        {
            if (!root.TryGetProperty(name, out var field) || field.ValueKind == JsonValueKind.Null)
            {
                detail = $"'{name}' is missing";
                return ServedEventFailureReason.MissingField;
            }
        }

        var id = root.GetProperty("id");
        var model = root.GetProperty("model");
        var servedTimestamp = root.GetProperty("served_timestamp");
        if (id.ValueKind != JsonValueKind.String || model.ValueKind != JsonValueKind.String ||
            servedTimestamp.ValueKind != JsonValueKind.String || !servedTimestamp.TryGetDateTimeOffset(out var servedAt))
        {
            detail = "id, model and served_timestamp must be strings (served_timestamp ISO 8601)";
            return ServedEventFailureReason.Unreadable;
        }

        if (!TryVersion(root.GetProperty("version"), out var version))
        {
            detail = $"version {root.GetProperty("version").GetRawText()} is not a whole number";
            return ServedEventFailureReason.BadVersion;
        }

        if (!root.TryGetProperty("inputs", out var inputs) || inputs.ValueKind == JsonValueKind.Null ||
            (inputs.ValueKind == JsonValueKind.Array && inputs.GetArrayLength() == 0))
        {
            detail = "no input tensors";
            return ServedEventFailureReason.NoInputs;
        }

        if (inputs.ValueKind != JsonValueKind.Array)
        {
            detail = "'inputs' is not an array";
            return ServedEventFailureReason.Unreadable;
        }

        var tensors = ImmutableArray.CreateBuilder<ServedTensor>(inputs.GetArrayLength());
        foreach (var input in inputs.EnumerateArray())
        {
            var reason = ReadTensor(input, out var tensor, out detail);
            if (reason is not null)
            {
                return reason;
            }

            tensors.Add(tensor!);
        }

        served = new ServedEvent(id.GetString()!, model.GetString()!, version, servedAt, partition, offset, tensors.MoveToImmutable())
        {
            Outputs = ReadOutputs(root),
        };
        return null;
    }

    /// <summary>
    /// The output tensors the statistics can read. Unlike an input, an output that cannot be read
    /// (string labels, a malformed tensor) is left out rather than failing the event: the event's
    /// inputs still count for feature drift, it only gives no prediction.
    /// </summary>
    private static ImmutableArray<ServedTensor> ReadOutputs(JsonElement root)
    {
        if (!root.TryGetProperty("outputs", out var outputs) || outputs.ValueKind != JsonValueKind.Array)
        {
            return [];
        }

        var tensors = ImmutableArray.CreateBuilder<ServedTensor>(outputs.GetArrayLength());
        foreach (var output in outputs.EnumerateArray())
        {
            if (ReadTensor(output, out var tensor, out _) is null)
            {
                tensors.Add(tensor!);
            }
        }

        return tensors.ToImmutable();
    }

    /// <summary>The pipeline writes the version as a string ("3"); a number is taken too.</summary>
    private static bool TryVersion(JsonElement element, out int version)
    {
        version = 0;
        return element.ValueKind switch
        {
            JsonValueKind.String => int.TryParse(element.GetString(), NumberStyles.None, CultureInfo.InvariantCulture, out version),
            JsonValueKind.Number => element.TryGetInt32(out version) && version >= 0,
            _ => false,
        };
    }

    private static ServedEventFailureReason? ReadTensor(JsonElement input, out ServedTensor? tensor, out string detail)
    {
        tensor = null;
        detail = "";
        if (input.ValueKind != JsonValueKind.Object ||
            !input.TryGetProperty("name", out var name) || name.ValueKind != JsonValueKind.String ||
            !input.TryGetProperty("datatype", out var datatype) || datatype.ValueKind != JsonValueKind.String ||
            !input.TryGetProperty("shape", out var shape) || shape.ValueKind != JsonValueKind.Array ||
            !input.TryGetProperty("data", out var data) || data.ValueKind != JsonValueKind.Array)
        {
            detail = "an input tensor lacks name, datatype, shape or data";
            return ServedEventFailureReason.Unreadable;
        }

        var tensorName = name.GetString()!;
        if (!TensorDataTypes.TryParse(datatype.GetString(), out var type))
        {
            detail = $"tensor '{tensorName}': datatype '{datatype.GetString()}' is not numeric ({TensorDataTypes.SupportedNames})";
            return ServedEventFailureReason.UnsupportedDatatype;
        }

        var dims = ImmutableArray.CreateBuilder<long>(shape.GetArrayLength());
        long elements = 1;
        foreach (var dim in shape.EnumerateArray())
        {
            if (!dim.TryGetInt64(out var d) || d < 0)
            {
                detail = $"tensor '{tensorName}': shape {shape.GetRawText()} is not a list of sizes";
                return ServedEventFailureReason.ShapeMismatch;
            }

            dims.Add(d);
            elements = d == 0 || elements <= long.MaxValue / d ? elements * d : long.MaxValue;
        }

        // The data's length is bounded by the body's, so comparing it first keeps a declared
        // shape from asking for a huge allocation.
        if (elements != data.GetArrayLength())
        {
            detail = $"tensor '{tensorName}': shape {shape.GetRawText()} holds {elements} values, data has {data.GetArrayLength()}";
            return ServedEventFailureReason.ShapeMismatch;
        }

        var values = new double[elements];
        var i = 0;
        foreach (var element in data.EnumerateArray())
        {
            if (!TryValue(element, type, out values[i++]))
            {
                detail = $"tensor '{tensorName}': value {element.GetRawText()} is not a {type.ToWireName()}";
                return ServedEventFailureReason.Unreadable;
            }
        }

        tensor = new ServedTensor(tensorName, dims.MoveToImmutable(), values);
        return null;
    }

    private static bool TryValue(JsonElement element, TensorDataType type, out double value)
    {
        switch (element.ValueKind)
        {
            case JsonValueKind.Number when type != TensorDataType.Bool:
                var read = element.TryGetDouble(out value);
                value = type == TensorDataType.Fp32 ? (float)value : value;
                return read;
            case JsonValueKind.True or JsonValueKind.False when type == TensorDataType.Bool:
                value = element.ValueKind == JsonValueKind.True ? 1 : 0;
                return true;
            case JsonValueKind.String when type is TensorDataType.Fp32 or TensorDataType.Fp64:
                value = element.GetString() switch
                {
                    "NaN" => double.NaN,
                    "Infinity" => double.PositiveInfinity,
                    "-Infinity" => double.NegativeInfinity,
                    _ => 0,
                };
                return !double.IsFinite(value);
            default:
                value = 0;
                return false;
        }
    }
}
