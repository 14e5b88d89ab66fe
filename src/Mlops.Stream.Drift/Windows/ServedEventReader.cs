using System.Collections.Immutable;
using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using System.Text;
using System.Text.Json;
using Mlops.Stream.Inference.Wire;

namespace Mlops.Stream.Drift.Windows;

/// <summary>
/// Reads the served-event JSON that <c>ServingRecords.ServedEvent</c> writes. Returns a typed
/// failure instead of throwing, because one bad record on the topic must never stop the drift job.
/// Tensor data is read flat (as the serving pipeline writes it), with the v2 non-finite literals
/// "NaN", "Infinity" and "-Infinity" accepted so data quality can count them.
/// </summary>
/// <remarks>
/// Reading served events was most of the drift job's time when it built a <see cref="JsonDocument"/>
/// per event, so this is a forward-only <see cref="Utf8JsonReader"/> pass with no document. It
/// still behaves as a document would: the whole event must be valid JSON before any field is
/// judged (a syntax error anywhere is <c>unreadable</c>), fields may come in any order, a repeated
/// field's last value wins, and failures are reported in one fixed order. To get that without a
/// document, the first pass only notes where each wanted field's value lies (<see cref="Slice"/>);
/// the fields are then judged in order by reading those slices again. Only tensor values are
/// parsed, straight into the tensor's array.
/// </remarks>
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
        ServedEventFailureReason? reason;
        string detail;
        try
        {
            reason = Read(utf8Json, partition, offset, out served, out detail);
        }
        catch (JsonException e)
        {
            reason = ServedEventFailureReason.Unreadable;
            detail = $"not JSON: {e.Message}";
        }

        if (reason is { } r)
        {
            failure = new ServedEventFailure(r, detail, partition, offset);
            return false;
        }

        return served is not null;
    }

    /// <summary>Where the root's wanted fields lie in the body; a field not seen stays <see cref="Slice.Absent"/>.</summary>
    private struct EventFields
    {
        public Slice Id, Model, Version, ServedTimestamp, Inputs, Outputs;
    }

    /// <summary>Where a tensor's fields lie in the body.</summary>
    private struct TensorFields
    {
        public Slice Name, Datatype, Shape, Data;
    }

    /// <summary>
    /// One JSON value's bytes within the body (a string with its quotes, an array with its
    /// brackets): enough to read it again on its own and to quote it in a failure's detail.
    /// </summary>
    private readonly record struct Slice(int Start, int Length, JsonTokenType Token)
    {
        public static readonly Slice Absent = new(0, 0, JsonTokenType.None);

        public bool IsAbsentOrNull => Token is JsonTokenType.None or JsonTokenType.Null;

        public ReadOnlySpan<byte> Of(ReadOnlySpan<byte> body) => body.Slice(Start, Length);

        public string RawText(ReadOnlySpan<byte> body) => Encoding.UTF8.GetString(Of(body));

        /// <summary>A reader positioned on this value, which was already checked to be valid JSON.</summary>
        public Utf8JsonReader Reader(ReadOnlySpan<byte> body)
        {
            var reader = new Utf8JsonReader(Of(body), ReaderOptions);
            reader.Read();
            return reader;
        }

        /// <summary>Notes the value the reader is on and moves the reader past it (validating it).</summary>
        public static Slice Take(ref Utf8JsonReader reader)
        {
            var start = (int)reader.TokenStartIndex;
            var token = reader.TokenType;
            reader.Skip();
            return new Slice(start, (int)reader.BytesConsumed - start, token);
        }
    }

    private static ServedEventFailureReason? Read(ReadOnlySpan<byte> body, int partition, long offset, out ServedEvent? served, out string detail)
    {
        served = null;
        detail = "";
        var reader = new Utf8JsonReader(body, ReaderOptions);
        if (!reader.Read())
        {
            detail = "not JSON: the body is empty";
            return ServedEventFailureReason.Unreadable;
        }

        if (reader.TokenType != JsonTokenType.StartObject)
        {
            var kind = KindOf(Slice.Take(ref reader).Token);
            detail = $"expected a JSON object, got {kind}";
            return ServedEventFailureReason.Unreadable;
        }

        var fields = new EventFields();
        var unwanted = Slice.Absent; // where fields nobody reads are noted
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            ref var field = ref unwanted;
            if (reader.ValueTextEquals("inputs"u8)) field = ref fields.Inputs;
            else if (reader.ValueTextEquals("outputs"u8)) field = ref fields.Outputs;
            else if (reader.ValueTextEquals("id"u8)) field = ref fields.Id;
            else if (reader.ValueTextEquals("model"u8)) field = ref fields.Model;
            else if (reader.ValueTextEquals("version"u8)) field = ref fields.Version;
            else if (reader.ValueTextEquals("served_timestamp"u8)) field = ref fields.ServedTimestamp;

            reader.Read();
            field = Slice.Take(ref reader);
        }

        return Judge(body, fields, partition, offset, out served, out detail);
    }

    private static ServedEventFailureReason? Judge(ReadOnlySpan<byte> body, in EventFields fields, int partition, long offset, out ServedEvent? served, out string detail)
    {
        served = null;
        detail = "";
        foreach (var (name, field) in (ReadOnlySpan<(string, Slice)>)[("id", fields.Id), ("model", fields.Model), ("version", fields.Version), ("served_timestamp", fields.ServedTimestamp)])
        {
            if (field.IsAbsentOrNull)
            {
                detail = $"'{name}' is missing";
                return ServedEventFailureReason.MissingField;
            }
        }

        var servedTimestamp = fields.ServedTimestamp.Reader(body);
        if (fields.Id.Token != JsonTokenType.String || fields.Model.Token != JsonTokenType.String ||
            servedTimestamp.TokenType != JsonTokenType.String || !servedTimestamp.TryGetDateTimeOffset(out var servedAt))
        {
            detail = "id, model and served_timestamp must be strings (served_timestamp ISO 8601)";
            return ServedEventFailureReason.Unreadable;
        }

        if (!TryVersion(fields.Version.Reader(body), out var version))
        {
            detail = $"version {fields.Version.RawText(body)} is not a whole number";
            return ServedEventFailureReason.BadVersion;
        }

        var inputs = fields.Inputs.IsAbsentOrNull ? default : fields.Inputs.Reader(body);
        if (fields.Inputs.IsAbsentOrNull || (fields.Inputs.Token == JsonTokenType.StartArray && IsEmptyArray(inputs)))
        {
            detail = "no input tensors";
            return ServedEventFailureReason.NoInputs;
        }

        if (fields.Inputs.Token != JsonTokenType.StartArray)
        {
            detail = "'inputs' is not an array";
            return ServedEventFailureReason.Unreadable;
        }

        var tensors = ImmutableArray.CreateBuilder<ServedTensor>();
        while (inputs.Read() && inputs.TokenType != JsonTokenType.EndArray)
        {
            var reason = ReadTensor(body, fields.Inputs.Start, ref inputs, out var tensor, out detail);
            if (reason is not null)
            {
                return reason;
            }

            tensors.Add(tensor!);
        }

        served = new ServedEvent(
            fields.Id.Reader(body).GetString()!,
            fields.Model.Reader(body).GetString()!,
            version,
            servedAt,
            partition,
            offset,
            tensors.DrainToImmutable())
        {
            Outputs = ReadOutputs(body, fields.Outputs),
        };
        return null;
    }

    /// <summary>
    /// The output tensors the statistics can read. Unlike an input, an output that cannot be read
    /// (string labels, a malformed tensor) is left out rather than failing the event: the event's
    /// inputs still count for feature drift, it only gives no prediction.
    /// </summary>
    private static ImmutableArray<ServedTensor> ReadOutputs(ReadOnlySpan<byte> body, Slice outputs)
    {
        if (outputs.Token != JsonTokenType.StartArray)
        {
            return [];
        }

        var reader = outputs.Reader(body);
        var tensors = ImmutableArray.CreateBuilder<ServedTensor>();
        while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
        {
            if (ReadTensor(body, outputs.Start, ref reader, out var tensor, out _) is null)
            {
                tensors.Add(tensor!);
            }
        }

        return tensors.DrainToImmutable();
    }

    private static bool IsEmptyArray(Utf8JsonReader array) => array.Read() && array.TokenType == JsonTokenType.EndArray;

    /// <summary>The pipeline writes the version as a string ("3"); a number is taken too.</summary>
    private static bool TryVersion(Utf8JsonReader reader, out int version)
    {
        version = 0;
        return reader.TokenType switch
        {
            JsonTokenType.String => int.TryParse(reader.GetString(), NumberStyles.None, CultureInfo.InvariantCulture, out version),
            JsonTokenType.Number => reader.TryGetInt32(out version) && version >= 0,
            _ => false,
        };
    }

    /// <summary>
    /// Reads the tensor the array reader is on and moves past it. <paramref name="arrayStart"/> is
    /// where the array's slice starts in the body, so the tensor's fields are noted as body slices.
    /// </summary>
    private static ServedEventFailureReason? ReadTensor(ReadOnlySpan<byte> body, int arrayStart, ref Utf8JsonReader array, out ServedTensor? tensor, out string detail)
    {
        tensor = null;
        detail = "";
        var fields = new TensorFields();
        var unwanted = Slice.Absent; // where fields nobody reads are noted
        if (array.TokenType == JsonTokenType.StartObject)
        {
            while (array.Read() && array.TokenType == JsonTokenType.PropertyName)
            {
                ref var field = ref unwanted;
                if (array.ValueTextEquals("data"u8)) field = ref fields.Data;
                else if (array.ValueTextEquals("name"u8)) field = ref fields.Name;
                else if (array.ValueTextEquals("datatype"u8)) field = ref fields.Datatype;
                else if (array.ValueTextEquals("shape"u8)) field = ref fields.Shape;

                array.Read();
                var value = Slice.Take(ref array);
                field = value with { Start = value.Start + arrayStart };
            }
        }
        else
        {
            array.Skip();
            detail = "an input tensor lacks name, datatype, shape or data";
            return ServedEventFailureReason.Unreadable;
        }

        if (fields.Name.Token != JsonTokenType.String || fields.Datatype.Token != JsonTokenType.String ||
            fields.Shape.Token != JsonTokenType.StartArray || fields.Data.Token != JsonTokenType.StartArray)
        {
            detail = "an input tensor lacks name, datatype, shape or data";
            return ServedEventFailureReason.Unreadable;
        }

        var tensorName = fields.Name.Reader(body).GetString()!;
        var datatype = fields.Datatype.Reader(body);
        if (!TryDatatype(ref datatype, out var type))
        {
            detail = $"tensor '{tensorName}': datatype '{datatype.GetString()}' is not numeric ({TensorDataTypes.SupportedNames})";
            return ServedEventFailureReason.UnsupportedDatatype;
        }

        var shape = fields.Shape.Reader(body);
        var dims = ImmutableArray.CreateBuilder<long>();
        long elements = 1;
        while (shape.Read() && shape.TokenType != JsonTokenType.EndArray)
        {
            if (shape.TokenType != JsonTokenType.Number || !shape.TryGetInt64(out var d) || d < 0)
            {
                detail = $"tensor '{tensorName}': shape {fields.Shape.RawText(body)} is not a list of sizes";
                return ServedEventFailureReason.ShapeMismatch;
            }

            dims.Add(d);
            elements = d == 0 || elements <= long.MaxValue / d ? elements * d : long.MaxValue;
        }

        // Every value takes at least two bytes with its comma, so the data's slice bounds how
        // many it holds: a declared shape above that is a mismatch without allocating for it.
        var values = elements <= (fields.Data.Length + 1) / 2 ? new double[elements] : null;
        var (count, badValue) = ReadValues(fields.Data.Reader(body), type, values);
        if (values is null || count != elements)
        {
            detail = $"tensor '{tensorName}': shape {fields.Shape.RawText(body)} holds {elements} values, data has {count}";
            return ServedEventFailureReason.ShapeMismatch;
        }

        if (badValue is { } bad)
        {
            detail = $"tensor '{tensorName}': value {bad.RawText(body[fields.Data.Start..])} is not a {type.ToWireName()}";
            return ServedEventFailureReason.Unreadable;
        }

        tensor = new ServedTensor(tensorName, dims.DrainToImmutable(), values);
        return null;
    }

    /// <summary>Parses the datatype name without allocating (names are a few ASCII letters).</summary>
    private static bool TryDatatype(ref Utf8JsonReader reader, out TensorDataType type)
    {
        Span<char> name = stackalloc char[16];
        if (reader.ValueSpan.Length > name.Length)
        {
            return TensorDataTypes.TryParse(reader.GetString(), out type);
        }

        var length = reader.CopyString(name);
        return TensorDataTypes.TryParse(name[..length], out type);
    }

    /// <summary>
    /// Counts the data array's elements and parses them into <paramref name="values"/> while they
    /// fit (none when it is null). Returns the count and the first element that is not a value of
    /// <paramref name="type"/>, as a slice of the data array.
    /// </summary>
    private static (long Count, Slice? BadValue) ReadValues(Utf8JsonReader data, TensorDataType type, double[]? values)
    {
        long count = 0;
        Slice? bad = null;
        while (data.Read() && data.TokenType != JsonTokenType.EndArray)
        {
            var element = Slice.Take(ref data);
            double value = 0;
            if (bad is null && !TryValue(ref data, type, out value))
            {
                bad = element;
            }

            if (values is not null && count < values.Length)
            {
                values[count] = value;
            }

            count++;
        }

        return (count, bad);
    }

    /// <summary>Reads the value the reader is on; a container is never a value.</summary>
    private static bool TryValue(ref Utf8JsonReader element, TensorDataType type, out double value)
    {
        switch (element.TokenType)
        {
            case JsonTokenType.Number when type != TensorDataType.Bool:
                var read = element.TryGetDouble(out value);
                value = type == TensorDataType.Fp32 ? (float)value : value;
                return read;
            case JsonTokenType.True or JsonTokenType.False when type == TensorDataType.Bool:
                value = element.TokenType == JsonTokenType.True ? 1 : 0;
                return true;
            case JsonTokenType.String when type is TensorDataType.Fp32 or TensorDataType.Fp64:
                value = element.ValueTextEquals("NaN"u8) ? double.NaN
                    : element.ValueTextEquals("Infinity"u8) ? double.PositiveInfinity
                    : element.ValueTextEquals("-Infinity"u8) ? double.NegativeInfinity
                    : 0;
                return !double.IsFinite(value);
            default:
                value = 0;
                return false;
        }
    }

    /// <summary>The <see cref="JsonValueKind"/> name a value starting with this token has, for details.</summary>
    private static JsonValueKind KindOf(JsonTokenType token) => token switch
    {
        JsonTokenType.StartObject => JsonValueKind.Object,
        JsonTokenType.StartArray => JsonValueKind.Array,
        JsonTokenType.String => JsonValueKind.String,
        JsonTokenType.Number => JsonValueKind.Number,
        JsonTokenType.True => JsonValueKind.True,
        JsonTokenType.False => JsonValueKind.False,
        JsonTokenType.Null => JsonValueKind.Null,
        _ => JsonValueKind.Undefined,
    };
}
