using System.Buffers;
using System.Text.Encodings.Web;
using System.Text.Json;

namespace Mlops.Stream.Http;

/// <summary>
/// One NDJSON line per record: <c>{"topic","partition","offset","timestamp","key","headers":{name:value},"value":...}</c>.
/// A value that is JSON is embedded (re-written compactly, so the line never breaks); any other
/// value is <c>"value_base64"</c>; no value is <c>"value":null</c>. Headers are UTF-8 strings; a
/// repeated header name keeps its last value, as the serving side reads them.
/// </summary>
internal static class TailLine
{
    private static readonly JsonDocumentOptions ValueOptions = new() { MaxDepth = 64 };

    // Lines are read by people (mlops tail -o json) and programs, never embedded in HTML: keep
    // quotes and non-ASCII text as they are instead of \u escapes.
    private static readonly JsonWriterOptions LineOptions = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    public static void Write(IBufferWriter<byte> output, TailedRecord record)
    {
        using (var writer = new Utf8JsonWriter(output, LineOptions))
        {
            writer.WriteStartObject();
            writer.WriteString("topic", record.Topic);
            writer.WriteNumber("partition", record.Partition);
            writer.WriteNumber("offset", record.Offset);
            writer.WriteString("timestamp", record.Timestamp.UtcDateTime);
            writer.WriteString("key", record.Key);
            writer.WriteStartObject("headers");
            foreach (var (name, value) in LastValues(record.Headers)) writer.WriteString(name, value);
            writer.WriteEndObject();
            WriteValue(writer, record.Value);
            writer.WriteEndObject();
        }
        EndLine(output);
    }

    public static void WriteError(IBufferWriter<byte> output, ErrorResponse error)
    {
        using (var writer = new Utf8JsonWriter(output, LineOptions))
        {
            writer.WriteStartObject();
            writer.WriteString("error", error.Error);
            writer.WriteString("code", error.Code);
            writer.WriteEndObject();
        }
        EndLine(output);
    }

    private static void WriteValue(Utf8JsonWriter writer, byte[]? value)
    {
        if (value is not { } bytes)
        {
            writer.WriteNull("value");
            return;
        }
        JsonDocument? document = null;
        try
        {
            document = JsonDocument.Parse(bytes, ValueOptions);
        }
        catch (JsonException)
        {
            // Not JSON (a dead letter may hold any bytes): shown as base64 below.
        }
        if (document is null)
        {
            writer.WriteBase64String("value_base64", bytes);
            return;
        }
        using (document)
        {
            writer.WritePropertyName("value");
            document.RootElement.WriteTo(writer);
        }
    }

    private static IEnumerable<KeyValuePair<string, string>> LastValues(IReadOnlyList<KeyValuePair<string, string>> headers)
    {
        var last = new Dictionary<string, string>(StringComparer.Ordinal);
        var order = new List<string>();
        foreach (var (name, value) in headers)
        {
            if (!last.ContainsKey(name)) order.Add(name);
            last[name] = value;
        }
        return order.Select(name => KeyValuePair.Create(name, last[name]));
    }

    private static void EndLine(IBufferWriter<byte> output)
    {
        output.GetSpan(1)[0] = (byte)'\n';
        output.Advance(1);
    }
}
