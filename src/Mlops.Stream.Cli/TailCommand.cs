using System.CommandLine;
using System.Globalization;
using System.Text.Json;

namespace Mlops.Stream.Cli;

/// <summary>
/// <c>mlops tail predictions|served|dlq &lt;model&gt; [--from beginning|end] [--limit N]</c>: follows a
/// model's output topic through the node (GET /api/v1/models/{model}/tail/...), one record per line
/// as it arrives, until --limit records or Ctrl+C. The node's tail never joins a consumer group or
/// commits, so it does not disturb serving. <c>--output json</c> prints the node's NDJSON lines as they are.
/// </summary>
internal static class TailCommand
{
    /// <summary>The node's largest limit.</summary>
    public const int MaxLimit = 1_000_000;

    public static Command Build(CommandRunner runner)
    {
        var stream = new Argument<string>("stream") { Description = "predictions (v2 responses), served (served events) or dlq (dead-lettered requests)" };
        stream.AcceptOnlyFromAmong(TailStreams.Predictions, TailStreams.Served, TailStreams.DeadLetters);
        var model = ModelsCommands.ModelArgument();
        var from = new Option<string>("--from")
        {
            Description = "end: only records written from now on; beginning: everything the broker still holds",
            DefaultValueFactory = _ => "end",
            HelpName = "end|beginning",
        };
        from.AcceptOnlyFromAmong("end", "beginning");
        var limit = new Option<int?>("--limit", "-n")
        {
            Description = $"Stop after N records, 1..{MaxLimit} (default: follow until Ctrl+C)",
            HelpName = "N",
            CustomParser = Parsers.IntBetween("--limit", 1, MaxLimit),
        };
        var command = new Command("tail",
            "Follow a model's predictions, served events or dead letters, one readable line per record (GET /api/v1/models/<model>/tail/<stream>)")
        {
            stream, model, from, limit,
        };
        runner.SetAction(command, async (context, ct) =>
        {
            var kind = context.Parse.GetRequiredValue(stream);
            var wanted = context.Parse.GetValue(limit);
            var query = $"from={context.Parse.GetValue(from)}";
            if (wanted is { } n) query += $"&limit={n.ToString(CultureInfo.InvariantCulture)}";
            var path = $"api/v1/models/{AdminClient.Segment(context.Parse.GetRequiredValue(model))}/tail/{kind}?{query}";
            using var tail = await context.Client.OpenStreamAsync(path, ct);
            var received = 0;
            await foreach (var line in tail.ReadLinesAsync(ct))
            {
                var record = TailRecordFormatter.Parse(line);
                if (record.IsError) throw new CliException(ExitCodes.Unavailable, $"the tail ended: {record.Error} ({record.Code})");
                context.Out.WriteLine(context.Format == OutputFormat.Json ? line : TailRecordFormatter.Format(kind, record));
                received++;
            }
            // The node ends a tail early only when it stops.
            if (wanted is null || received < wanted)
                throw new CliException(ExitCodes.Unavailable, $"the node ended the tail after {received} records (is it stopping?)");
        });
        return command;
    }
}

/// <summary>The tail names of the node's route, which are also the argument's values.</summary>
internal static class TailStreams
{
    public const string Predictions = "predictions";
    public const string Served = "served";
    public const string DeadLetters = "dlq";
}

/// <summary>
/// One tailed record as one line for people: time, partition/offset, key, then what matters for the
/// stream: a prediction's version and outputs, a served event's version, batch and timings, a dead
/// letter's error code and reason. Values that are not what the stream should hold are shown as
/// compact JSON or text, never dropped.
/// </summary>
internal static class TailRecordFormatter
{
    private const int MaxElements = 6;
    private const int MaxText = 200;

    public static TailRecordDto Parse(string line)
    {
        try
        {
            return JsonSerializer.Deserialize(line, KafkaJsonContext.Default.TailRecordDto) ?? throw new JsonException("null line");
        }
        catch (JsonException e)
        {
            throw new CliException(ExitCodes.Unavailable, $"unexpected line in the tail (not the node's NDJSON): {e.Message}");
        }
    }

    public static string Format(string stream, TailRecordDto record)
    {
        var head = $"{record.Timestamp.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture)}  " +
                   $"{record.Partition}:{record.Offset}  {Table.Cell(record.Key)}";
        var body = stream switch
        {
            TailStreams.Predictions when record.Value is { ValueKind: JsonValueKind.Object } v && v.TryGetProperty("outputs", out var outputs) =>
                $"version {Text(v, "model_version")}  {Tensors(outputs)}",
            TailStreams.Served when record.Value is { ValueKind: JsonValueKind.Object } v && v.TryGetProperty("outputs", out var outputs) =>
                $"version {Text(v, "version")}  batch {Text(v, "batch_size")}  queue {Millis(v, "queue_ms")}  inference {Millis(v, "inference_ms")}  {Tensors(outputs)}",
            TailStreams.DeadLetters when record.Headers.TryGetValue(KafkaHeaders.ErrorCode, out var code) =>
                $"{code}: {record.Headers.GetValueOrDefault(KafkaHeaders.Error, "")}",
            _ => Raw(record),
        };
        return $"{head}  {body}";
    }

    private static string Tensors(JsonElement tensors) =>
        tensors.ValueKind != JsonValueKind.Array
            ? Shorten(tensors.GetRawText())
            : string.Join("  ", tensors.EnumerateArray().Select(t => $"{Text(t, "name")}={Data(t)}"));

    /// <summary>A tensor's data, flattened: the first few elements, then how many there are.</summary>
    private static string Data(JsonElement tensor)
    {
        if (!tensor.TryGetProperty("data", out var data)) return "-";
        var elements = Flatten(data).ToList();
        var shown = string.Join(", ", elements.Take(MaxElements).Select(Element));
        return elements.Count > MaxElements ? $"[{shown}, … {elements.Count} values]" : $"[{shown}]";
    }

    private static IEnumerable<JsonElement> Flatten(JsonElement value) =>
        value.ValueKind == JsonValueKind.Array ? value.EnumerateArray().SelectMany(Flatten) : [value];

    private static string Element(JsonElement value) => value.ValueKind switch
    {
        JsonValueKind.Number when value.TryGetInt64(out var integer) => integer.ToString(CultureInfo.InvariantCulture),
        JsonValueKind.Number => value.GetDouble().ToString("G4", CultureInfo.InvariantCulture),
        JsonValueKind.String => value.GetString()!,
        _ => value.GetRawText(),
    };

    private static string Text(JsonElement value, string property) =>
        value.TryGetProperty(property, out var found) ? Element(found) : "-";

    private static string Millis(JsonElement value, string property) =>
        value.TryGetProperty(property, out var found) && found.ValueKind == JsonValueKind.Number
            ? found.GetDouble().ToString("0.###", CultureInfo.InvariantCulture) + " ms"
            : "-";

    /// <summary>A value the stream should not hold: compact JSON, UTF-8 text, or its size when binary.</summary>
    private static string Raw(TailRecordDto record)
    {
        if (record.Value is { } json) return Shorten(json.GetRawText());
        if (record.ValueBase64 is not { } base64) return "(no value)";
        var bytes = Convert.FromBase64String(base64);
        try
        {
            return Shorten(new System.Text.UTF8Encoding(false, throwOnInvalidBytes: true).GetString(bytes));
        }
        catch (System.Text.DecoderFallbackException)
        {
            return $"({bytes.Length} bytes, not text)";
        }
    }

    private static string Shorten(string text)
    {
        var line = text.ReplaceLineEndings(" ");
        return line.Length > MaxText ? string.Concat(line.AsSpan(0, MaxText), "…") : line;
    }
}
