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

    /// <summary>Where the root's scalar fields lie in the body; a field not seen stays <see cref="Slice.Absent"/>.</summary>
    private struct EventFields
    {
        public Slice Id, Model, Version, ServedTimestamp;
        public TensorArray Inputs, Outputs;
    }

    /// <summary>
    /// An inputs or outputs array as it was met: its token (None when absent), the tensors read
    /// and, for inputs, the first tensor's failure (judged only after the scalar fields).
    /// </summary>
    private struct TensorArray
    {
        public JsonTokenType Token;
        public bool IsEmpty;
        public List<ServedTensor>? Tensors;
        public ServedEventFailureReason? Failure;
        public string Detail;
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
        public static Slice Take(ref Utf8JsonReader reader, int baseOffset = 0)
        {
            var start = (int)reader.TokenStartIndex;
            var token = reader.TokenType;
            reader.Skip();
            return new Slice(baseOffset + start, (int)reader.BytesConsumed - start, token);
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

        // Tensors are read as they are met (their values are most of the body); a failure is kept,
        // not returned, because a syntax error further on or a bad scalar field must win over it.
        var fields = new EventFields();
        var unwanted = Slice.Absent; // where fields nobody reads are noted
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            if (reader.ValueTextEquals("inputs"u8) || reader.ValueTextEquals("outputs"u8))
            {
                var isInputs = reader.ValueTextEquals("inputs"u8);
                reader.Read();
                var tensors = ReadTensors(ref reader, body, stopAtFailure: isInputs);
                if (isInputs) fields.Inputs = tensors;
                else fields.Outputs = tensors;
                continue;
            }

            ref var field = ref unwanted;
            if (reader.ValueTextEquals("id"u8)) field = ref fields.Id;
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

        var inputs = fields.Inputs;
        if (inputs.Token is JsonTokenType.None or JsonTokenType.Null || inputs.IsEmpty)
        {
            detail = "no input tensors";
            return ServedEventFailureReason.NoInputs;
        }

        if (inputs.Token != JsonTokenType.StartArray)
        {
            detail = "'inputs' is not an array";
            return ServedEventFailureReason.Unreadable;
        }

        if (inputs.Failure is { } failure)
        {
            detail = inputs.Detail;
            return failure;
        }

        served = new ServedEvent(
            fields.Id.Reader(body).GetString()!,
            fields.Model.Reader(body).GetString()!,
            version,
            servedAt,
            partition,
            offset,
            [.. inputs.Tensors!])
        {
            // Unlike an input, an output that cannot be read (string labels, a malformed tensor)
            // is left out rather than failing the event: its inputs still count for feature drift.
            Outputs = fields.Outputs.Tensors is { } outputs ? [.. outputs] : [],
        };
        return null;
    }

    /// <summary>
    /// Reads the inputs or outputs value the reader is on and moves past it. With
    /// <paramref name="stopAtFailure"/> (inputs) the first bad tensor is kept as the failure and
    /// the rest only checked as JSON; without it (outputs) bad tensors are left out.
    /// </summary>
    private static TensorArray ReadTensors(ref Utf8JsonReader reader, ReadOnlySpan<byte> body, bool stopAtFailure)
    {
        var array = new TensorArray { Token = reader.TokenType, Detail = "" };
        if (reader.TokenType != JsonTokenType.StartArray)
        {
            reader.Skip();
            return array;
        }

        array.Tensors = new List<ServedTensor>(2);
        array.IsEmpty = true;
        while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
        {
            array.IsEmpty = false;
            if (array.Failure is not null)
            {
                reader.Skip();
                continue;
            }

            var reason = ReadTensor(ref reader, body, out var tensor, out var detail);
            if (reason is null)
            {
                array.Tensors.Add(tensor!);
            }
            else if (stopAtFailure)
            {
                (array.Failure, array.Detail) = (reason, detail);
            }
        }

        return array;
    }

    /// <summary>The pipeline writes the version as a string ("3"); a number is taken too.</summary>
    private static bool TryVersion(Utf8JsonReader reader, out int version)
    {
        version = 0;
        return reader.TokenType switch
        {
            JsonTokenType.String when !reader.ValueIsEscaped => int.TryParse(reader.ValueSpan, NumberStyles.None, CultureInfo.InvariantCulture, out version),
            JsonTokenType.String => int.TryParse(reader.GetString(), NumberStyles.None, CultureInfo.InvariantCulture, out version),
            JsonTokenType.Number => reader.TryGetInt32(out version) && version >= 0,
            _ => false,
        };
    }

    /// <summary>A tensor's shape as it was met: its sizes and their product, or that it is not a list of sizes.</summary>
    private readonly record struct Dims(ImmutableArray<long> Sizes, long Elements, bool IsSizes);

    /// <summary>Data parsed as it was met, with the datatype and shape it was parsed for.</summary>
    private readonly record struct ParsedData(double[]? Values, long Count, Slice? BadValue, Slice Data, Slice ForDatatype, Slice ForShape);

    /// <summary>
    /// Reads the tensor the reader is on and moves past it. The data is parsed as it is met when
    /// the datatype and shape came first (as the pipeline writes them), else read again at the end.
    /// </summary>
    private static ServedEventFailureReason? ReadTensor(ref Utf8JsonReader reader, ReadOnlySpan<byte> body, out ServedTensor? tensor, out string detail)
    {
        tensor = null;
        detail = "";
        if (reader.TokenType != JsonTokenType.StartObject)
        {
            reader.Skip();
            detail = "an input tensor lacks name, datatype, shape or data";
            return ServedEventFailureReason.Unreadable;
        }

        Slice name = Slice.Absent, datatype = Slice.Absent, shape = Slice.Absent, data = Slice.Absent;
        TensorDataType type = default;
        var typeRead = false;
        Dims dims = default;
        ParsedData? parsed = null;
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            if (reader.ValueTextEquals("data"u8))
            {
                reader.Read();
                if (reader.TokenType == JsonTokenType.StartArray && typeRead && shape.Token == JsonTokenType.StartArray && dims.IsSizes)
                {
                    var start = (int)reader.TokenStartIndex;
                    var values = dims.Elements <= (body.Length - start + 1) / 2 ? new double[dims.Elements] : null;
                    var (count, bad) = ReadValues(ref reader, type, values, 0);
                    data = new Slice(start, (int)reader.BytesConsumed - start, JsonTokenType.StartArray);
                    parsed = new ParsedData(values, count, bad, data, datatype, shape);
                }
                else
                {
                    data = Slice.Take(ref reader);
                }
            }
            else if (reader.ValueTextEquals("name"u8))
            {
                reader.Read();
                name = Slice.Take(ref reader);
            }
            else if (reader.ValueTextEquals("datatype"u8))
            {
                reader.Read();
                typeRead = reader.TokenType == JsonTokenType.String && TryDatatype(ref reader, out type);
                datatype = Slice.Take(ref reader);
            }
            else if (reader.ValueTextEquals("shape"u8))
            {
                reader.Read();
                var start = (int)reader.TokenStartIndex;
                dims = reader.TokenType == JsonTokenType.StartArray ? ReadDims(ref reader) : default;
                shape = dims.Sizes.IsDefault ? Slice.Take(ref reader) : new Slice(start, (int)reader.BytesConsumed - start, JsonTokenType.StartArray);
            }
            else
            {
                reader.Read();
                reader.Skip();
            }
        }

        if (name.Token != JsonTokenType.String || datatype.Token != JsonTokenType.String ||
            shape.Token != JsonTokenType.StartArray || data.Token != JsonTokenType.StartArray)
        {
            detail = "an input tensor lacks name, datatype, shape or data";
            return ServedEventFailureReason.Unreadable;
        }

        var tensorName = name.Reader(body).GetString()!;
        if (!typeRead)
        {
            detail = $"tensor '{tensorName}': datatype '{datatype.Reader(body).GetString()}' is not numeric ({TensorDataTypes.SupportedNames})";
            return ServedEventFailureReason.UnsupportedDatatype;
        }

        if (!dims.IsSizes)
        {
            detail = $"tensor '{tensorName}': shape {shape.RawText(body)} is not a list of sizes";
            return ServedEventFailureReason.ShapeMismatch;
        }

        // Parsed as met only if no later datatype, shape or data replaced what it was parsed for.
        if (parsed is not { } p || p.Data != data || p.ForDatatype != datatype || p.ForShape != shape)
        {
            var values = dims.Elements <= (data.Length + 1) / 2 ? new double[dims.Elements] : null;
            var again = data.Reader(body);
            var (count, bad) = ReadValues(ref again, type, values, data.Start);
            p = new ParsedData(values, count, bad, data, datatype, shape);
        }

        if (p.Values is null || p.Count != dims.Elements)
        {
            detail = $"tensor '{tensorName}': shape {shape.RawText(body)} holds {dims.Elements} values, data has {p.Count}";
            return ServedEventFailureReason.ShapeMismatch;
        }

        if (p.BadValue is { } badValue)
        {
            detail = $"tensor '{tensorName}': value {badValue.RawText(body)} is not a {type.ToWireName()}";
            return ServedEventFailureReason.Unreadable;
        }

        tensor = new ServedTensor(tensorName, dims.Sizes, p.Values);
        return null;
    }

    /// <summary>Reads the shape array the reader is on and moves past it.</summary>
    private static Dims ReadDims(ref Utf8JsonReader reader)
    {
        Span<long> sizes = stackalloc long[8];
        var list = sizes;
        var count = 0;
        long elements = 1;
        var isSizes = true;
        List<long>? more = null;
        while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
        {
            if (reader.TokenType != JsonTokenType.Number || !reader.TryGetInt64(out var d) || d < 0)
            {
                isSizes = false;
                reader.Skip();
                continue;
            }

            if (count < list.Length) list[count] = d;
            else (more ??= [.. list]).Add(d);
            count++;
            elements = d == 0 || elements <= long.MaxValue / d ? elements * d : long.MaxValue;
        }

        if (!isSizes) return new Dims([], 0, false);
        return new Dims(more is null ? ImmutableArray.Create<long>(list[..count]) : [.. more], elements, true);
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
    /// <paramref name="type"/>, as a slice of the body (<paramref name="baseOffset"/> is where the reader's bytes start in it).
    /// </summary>
    private static (long Count, Slice? BadValue) ReadValues(ref Utf8JsonReader data, TensorDataType type, double[]? values, int baseOffset)
    {
        long count = 0;
        Slice? bad = null;
        while (data.Read() && data.TokenType != JsonTokenType.EndArray)
        {
            var element = Slice.Take(ref data, baseOffset);
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
