using System.CommandLine;
using System.CommandLine.Parsing;
using System.Globalization;
using System.Text.Json;
using Mlops.Stream.Cli.Load;

namespace Mlops.Stream.Cli;

/// <summary>
/// <c>mlops load &lt;model&gt; --rate R --duration D [--drift X] [--seed S] [--grace G]</c>: an open-loop
/// load through the node's Kafka path. Requests built from the model's inputs and reference profile
/// are written to its request topic at fixed intended times (POST /api/v1/models/{model}/requests)
/// while the predictions topic is followed (GET .../tail/predictions); the report says how many were
/// sent and predicted and the end-to-end latency, from Kafka's record timestamps and from the client's
/// intended send times. Exit 0 whenever the run happened; missing predictions are in the report.
/// </summary>
internal static class LoadCommand
{
    public const double MaxRate = 10_000;
    public const long MaxRequests = 1_000_000;
    public static readonly TimeSpan MaxDuration = TimeSpan.FromHours(1);
    public static readonly TimeSpan DefaultGrace = TimeSpan.FromSeconds(10);
    public static readonly TimeSpan MaxGrace = TimeSpan.FromMinutes(10);

    public static Command Build(CommandRunner runner)
    {
        var model = ModelsCommands.ModelArgument();
        var rate = new Option<double>("--rate", "-r")
        {
            Description = $"Requests per second, above 0 and at most {MaxRate}",
            Required = true,
            HelpName = "per-second",
            CustomParser = Parsers.Number("--rate", 0, MaxRate, exclusiveMin: true),
        };
        var duration = new Option<TimeSpan>("--duration", "-d")
        {
            Description = "How long to send: 30s, 500ms, 2m (a plain number is seconds), at most 1h",
            Required = true,
            HelpName = "duration",
            CustomParser = DurationParser.Create("--duration", MaxDuration),
        };
        var drift = new Option<double>("--drift")
        {
            Description = "Shift every feature by this many reference standard deviations, so drift jobs see it (default 0)",
            HelpName = "std-devs",
            CustomParser = Parsers.Number("--drift", -100, 100),
        };
        var seed = new Option<int?>("--seed")
        {
            Description = "Seed of the generated values (default 42): the same seed sends the same values",
            HelpName = "S",
            CustomParser = Parsers.IntBetween("--seed", 0, int.MaxValue),
        };
        var grace = new Option<TimeSpan>("--grace")
        {
            Description = $"After sending, how long to wait for predictions still owed (default {DefaultGrace.TotalSeconds:0}s)",
            HelpName = "duration",
            DefaultValueFactory = _ => DefaultGrace,
            CustomParser = DurationParser.Create("--grace", MaxGrace),
        };
        var command = new Command("load",
            "Open-loop load through Kafka: send realistic requests at a fixed rate, match their predictions, " +
            "report sent, predicted, missing and end-to-end latency p50/p90/p99/max")
        {
            model, rate, duration, drift, seed, grace,
        };
        runner.SetAction(command, async (context, ct) =>
        {
            var settings = new LoadSettings(context.Parse.GetRequiredValue(model), context.Parse.GetValue(rate), context.Parse.GetValue(duration),
                context.Parse.GetValue(drift), context.Parse.GetValue(seed) ?? 42, context.Parse.GetValue(grace));
            if (settings.Requests is < 1 or > MaxRequests)
                throw new CliException(ExitCodes.Usage,
                    $"--rate × --duration makes {settings.Requests} requests; a run sends from 1 to {MaxRequests}");
            var report = await LoadRun.RunAsync(context.Client, settings, ct);
            if (context.Format == OutputFormat.Json) context.Out.WriteLine(JsonSerializer.Serialize(report, KafkaJsonContext.Default.LoadReport));
            else Write(context.Out, report);
        });
        return command;
    }

    private static void Write(TextWriter output, LoadReport r)
    {
        output.WriteLine($"Load on {r.Model}: {Number(r.Rate)}/s for {Number(r.DurationSeconds)} s, drift {Number(r.Drift)}, seed {r.Seed}; {r.Features}.");
        output.WriteLine();
        output.WriteLine($"sent        {r.Sent} ({Number(r.AchievedRate)}/s achieved)");
        output.WriteLine($"failed      {r.Failed}{(r.FirstError is null ? "" : $" (first error: {r.FirstError})")}");
        output.WriteLine($"predicted   {r.Predicted}");
        output.WriteLine($"missing     {r.Missing}");
        output.WriteLine($"duplicates  {r.Duplicates}");
        output.WriteLine();
        var latency = new Table("LATENCY", "P50", "P90", "P99", "MAX");
        Add(latency, "kafka (request record → prediction record)", r.KafkaLatency);
        Add(latency, "client (intended send → prediction received)", r.ClientLatency);
        latency.WriteTo(output);
    }

    private static void Add(Table table, string name, LatencySummary? latency)
    {
        if (latency is null) table.Add(name, null, null, null, null);
        else table.Add(name, Millis(latency.P50), Millis(latency.P90), Millis(latency.P99), Millis(latency.Max));
    }

    private static string Millis(double ms) => ms.ToString(ms < 10 ? "0.00" : "0.0", CultureInfo.InvariantCulture) + " ms";

    private static string Number(double value) => value.ToString("0.##", CultureInfo.InvariantCulture);
}

/// <summary>Durations as people write them: <c>500ms</c>, <c>30s</c>, <c>2m</c>, <c>1h</c>, or a plain number of seconds.</summary>
internal static class DurationParser
{
    public static Func<ArgumentResult, TimeSpan> Create(string what, TimeSpan max) => result =>
    {
        var text = result.Tokens.Count > 0 ? result.Tokens[0].Value.Trim() : "";
        if (TryParse(text, out var value) && value > TimeSpan.Zero && value <= max) return value;
        result.AddError($"{what} must be a duration above 0 and at most {max.TotalSeconds.ToString(CultureInfo.InvariantCulture)}s, " +
                        $"such as 30s, 500ms or 2m (got '{text}')");
        return TimeSpan.Zero;
    };

    private static readonly (string Unit, double Seconds)[] Units = [("ms", 0.001), ("s", 1), ("m", 60), ("h", 3600), ("", 1)];

    private static bool TryParse(string text, out TimeSpan value)
    {
        foreach (var (unit, seconds) in Units)
        {
            if (text.EndsWith(unit, StringComparison.OrdinalIgnoreCase)
                && double.TryParse(text[..^unit.Length], NumberStyles.Float, CultureInfo.InvariantCulture, out var amount)
                && double.IsFinite(amount) && amount * seconds is > 0 and <= 1e9)
            {
                value = TimeSpan.FromSeconds(amount * seconds);
                return true;
            }
        }
        value = TimeSpan.Zero;
        return false;
    }
}
