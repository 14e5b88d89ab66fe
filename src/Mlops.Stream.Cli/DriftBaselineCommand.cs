using System.CommandLine;
using System.CommandLine.Parsing;
using System.Globalization;
using System.Text.Json.Serialization;

namespace Mlops.Stream.Cli;

/// <summary>
/// <c>mlops drift baseline &lt;model&gt; --from T --to T [--version N] [--max-rows R]</c>: sets a
/// version's drift reference (default: production's) to a sample of the served traffic between
/// two times (POST /api/v1/models/{model}/drift/baseline). Times are ISO 8601
/// (<c>2026-12-03T10:00:00Z</c>) or a duration ago (<c>90m</c>, <c>2h</c>, <c>1d</c>), or <c>now</c>.
/// </summary>
internal static class DriftBaselineCommand
{
    public static Command Build(CommandRunner runner)
    {
        var model = ModelsCommands.ModelArgument();
        var from = new Option<DateTimeOffset>("--from") { Description = "Start of the window: ISO 8601, or a duration ago (90m, 2h, 1d)", Required = true, HelpName = "time", CustomParser = Time("--from") };
        var to = new Option<DateTimeOffset>("--to") { Description = "End of the window: ISO 8601, a duration ago, or now", Required = true, HelpName = "time", CustomParser = Time("--to") };
        var version = new Option<int?>("--version") { Description = "The version whose reference is set (default: production)", HelpName = "N", CustomParser = Parsers.IntBetween("--version", 1, int.MaxValue) };
        var maxRows = new Option<int?>("--max-rows")
        {
            Description = "Rows kept at most, sampled uniformly from the window (the node's default: 10000; 10..50000)",
            HelpName = "R",
            CustomParser = Parsers.IntBetween("--max-rows", 10, 50_000),
        };
        var command = new Command("baseline",
            "Set a version's drift reference to a sample of its model's served traffic between two times; the drift job judges the next windows " +
            "against it (POST /api/v1/models/<model>/drift/baseline)") { model, from, to, version, maxRows };
        runner.SetAction(command, async (context, ct) =>
        {
            var name = context.Parse.GetRequiredValue(model);
            // Reading a long window takes the node up to a minute.
            context.Client.AllowAtLeast(TimeSpan.FromSeconds(90));
            var body = AdminClient.Json(new BaselineBody(context.Parse.GetValue(from), context.Parse.GetValue(to), context.Parse.GetValue(version), context.Parse.GetValue(maxRows)),
                DriftJsonContext.Default.BaselineBody);
            var answer = await context.Client.PostAsync($"api/v1/models/{AdminClient.Segment(name)}/drift/baseline", body, DriftJsonContext.Default.BaselineDto, ct);
            if (ModelsCommands.WroteJson(context, answer.Json)) return;
            var b = answer.Value;
            context.Out.WriteLine($"{b.Model} version {b.Version}: reference set to {b.Rows} rows sampled from {b.RowsSeen} rows of {b.Events} served events " +
                                  $"between {b.From.UtcDateTime:yyyy-MM-dd HH:mm:ss'Z'} and {b.To.UtcDateTime:yyyy-MM-dd HH:mm:ss'Z'}.");
            if (b.Skipped.Count > 0) context.Out.WriteLine($"Left out: {string.Join(", ", b.Skipped.Select(s => $"{s.Value} {s.Key}"))}.");
        });
        return command;
    }

    /// <summary>ISO 8601 (a time without offset is UTC), <c>now</c>, or a duration ago: a number and s, m, h or d.</summary>
    internal static Func<ArgumentResult, DateTimeOffset> Time(string what, TimeProvider? clock = null) => result =>
    {
        var text = result.Tokens.Count > 0 ? result.Tokens[0].Value.Trim() : "";
        var now = (clock ?? TimeProvider.System).GetUtcNow();
        if (text.Equals("now", StringComparison.OrdinalIgnoreCase)) return now;
        if (text.Length > 1 && "smhd".Contains(char.ToLowerInvariant(text[^1]))
            && double.TryParse(text[..^1], NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var amount) && amount >= 0)
        {
            var unit = char.ToLowerInvariant(text[^1]) switch { 's' => TimeSpan.FromSeconds(1), 'm' => TimeSpan.FromMinutes(1), 'h' => TimeSpan.FromHours(1), _ => TimeSpan.FromDays(1) };
            return now - (unit * amount);
        }

        if (DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var time)) return time;
        result.AddError($"{what} must be an ISO 8601 time (2026-12-03T10:00:00Z), a duration ago (90m, 2h, 1d) or now (got '{text}')");
        return default;
    };
}

internal sealed record BaselineBody(
    [property: JsonPropertyName("from")] DateTimeOffset From,
    [property: JsonPropertyName("to")] DateTimeOffset To,
    [property: JsonPropertyName("version"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] int? Version,
    [property: JsonPropertyName("max_rows"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] int? MaxRows);

internal sealed class BaselineDto
{
    [JsonPropertyName("model")] public string Model { get; init; } = "";
    [JsonPropertyName("version")] public int Version { get; init; }
    [JsonPropertyName("from")] public DateTimeOffset From { get; init; }
    [JsonPropertyName("to")] public DateTimeOffset To { get; init; }
    [JsonPropertyName("records")] public long Records { get; init; }
    [JsonPropertyName("events")] public long Events { get; init; }
    [JsonPropertyName("rows_seen")] public long RowsSeen { get; init; }
    [JsonPropertyName("rows")] public int Rows { get; init; }
    [JsonPropertyName("skipped")] public Dictionary<string, int> Skipped { get; init; } = [];
}
