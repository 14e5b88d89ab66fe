using System.CommandLine;
using System.Globalization;

namespace Mlops.Stream.Cli;

/// <summary>
/// <c>mlops drift status &lt;model&gt; [--windows N]</c>: whether each version of the model drifts, from
/// its latest windows (GET /api/v1/models/{model}/drift): a line per version, a table of windows
/// newest first, and the drifted features of every version whose latest window drifted; then, when
/// there are any, the performance of the windows that had feedback labels and each version's latest
/// prediction drift against its baseline window. Exit 0
/// whether or not there is drift: the answer is in the output (and <c>--output json</c>).
/// </summary>
internal static class DriftCommands
{
    /// <summary>The node's bounds for <c>windows</c>; the CLI refuses others instead of silently getting fewer.</summary>
    public const int MaxWindows = 100;

    /// <summary>Drifted features listed per drifted version, the highest scores first.</summary>
    private const int MaxFeaturesShown = 10;

    public static Command Build(CommandRunner runner)
    {
        var drift = new Command("drift", "Drift of served traffic against each version's reference, window by window");
        drift.Subcommands.Add(Status(runner));
        drift.Subcommands.Add(DriftReportCommand.Build(runner));
        drift.Subcommands.Add(DriftBaselineCommand.Build(runner));
        return drift;
    }

    private static Command Status(CommandRunner runner)
    {
        var model = ModelsCommands.ModelArgument();
        var windows = new Option<int?>("--windows", "-n")
        {
            Description = $"Latest windows per version, 1..{MaxWindows} (the node's default: 10)",
            HelpName = "N",
            CustomParser = Parsers.IntBetween("--windows", 1, MaxWindows),
        };
        var command = new Command("status",
            "Per version: drift in its latest window, its latest windows (end, events, drifted features, verdict) and the features that drifted " +
            "(GET /api/v1/models/<model>/drift)") { model, windows };
        runner.SetAction(command, async (context, ct) =>
        {
            var name = context.Parse.GetRequiredValue(model);
            var path = $"api/v1/models/{AdminClient.Segment(name)}/drift" +
                       (context.Parse.GetValue(windows) is { } n ? $"?windows={n.ToString(CultureInfo.InvariantCulture)}" : "");
            var answer = await context.Client.GetAsync(path, DriftJsonContext.Default.DriftStatusDto, ct);
            if (ModelsCommands.WroteJson(context, answer.Json)) return;
            Write(context.Out, answer.Value);
        });
        return command;
    }

    private static void Write(TextWriter output, DriftStatusDto status)
    {
        var versions = status.Versions.Where(v => v.Windows.Count > 0).ToList();
        if (versions.Count == 0)
        {
            output.WriteLine($"No drift windows for {status.Model} yet: a window closes after Drift:WindowEvents served events or Drift:WindowSpan of traffic.");
            return;
        }

        foreach (var version in versions)
        {
            var latest = version.Windows[0].Dataset;
            output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"{status.Model} version {version.Version}: {(version.DriftDetected ? "DRIFT DETECTED" : "no drift")} in the latest window " +
                $"({latest.DriftedCount} of {latest.EvaluatedCount} features drifted, threshold share {Table.Cell(latest.Threshold)})."));
        }

        output.WriteLine();
        var table = new Table("VERSION", "WINDOW-END", "EVENTS", "CLOSED-BY", "DRIFTED", "SHARE", "DATASET");
        foreach (var version in versions)
            foreach (var w in version.Windows)
                table.Add(version.Version, Time(w.End), w.Events, w.ClosedBy, $"{w.Dataset.DriftedCount}/{w.Dataset.EvaluatedCount}",
                    double.IsNaN(w.Dataset.DriftedShare) ? null : w.Dataset.DriftedShare, w.Dataset.Verdict);
        table.WriteTo(output);

        foreach (var version in versions.Where(v => v.DriftDetected))
        {
            var drifted = version.Windows[0].Features.Where(f => f.Verdict == "drifted").OrderByDescending(f => f.Score).ToList();
            output.WriteLine();
            output.WriteLine($"Drifted features of version {version.Version} in its latest window" +
                             (drifted.Count > MaxFeaturesShown ? $" (the {MaxFeaturesShown} highest of {drifted.Count}):" : ":"));
            var features = new Table("FEATURE", "METHOD", "SCORE", "THRESHOLD", "P-VALUE");
            foreach (var f in drifted.Take(MaxFeaturesShown)) features.Add(f.Feature, f.Method, f.Score, f.Threshold, f.PValue);
            features.WriteTo(output);
        }

        WritePerformance(output, versions);
        WritePredictionDrift(output, versions);
    }

    /// <summary>The windows that had labels: what the feedback topic says of the model's accuracy.</summary>
    private static void WritePerformance(TextWriter output, List<VersionDriftDto> versions)
    {
        var labelled = versions.SelectMany(v => v.Windows.Where(w => w.Performance is { Labelled: > 0 }).Select(w => (v.Version, Window: w))).ToList();
        if (labelled.Count == 0) return;
        output.WriteLine();
        output.WriteLine($"Performance against feedback labels ({labelled[0].Window.Performance!.Average} precision and recall):");
        var table = new Table("VERSION", "WINDOW-END", "LABELLED", "LATE", "ACCURACY", "PRECISION", "RECALL", "ROC-AUC");
        foreach (var (version, w) in labelled)
        {
            var p = w.Performance!;
            table.Add(version, Time(w.End), p.Labelled, p.Late, p.Accuracy, p.Precision, p.Recall, p.RocAuc);
        }

        table.WriteTo(output);
    }

    /// <summary>Each version's latest window judged against its prediction baseline, output by output.</summary>
    private static void WritePredictionDrift(TextWriter output, List<VersionDriftDto> versions)
    {
        var judged = versions.Select(v => (v.Version, Window: v.Windows.FirstOrDefault(w => w.PredictionDrift is { IsBaseline: false })))
            .Where(j => j.Window is not null).ToList();
        if (judged.Count == 0) return;
        output.WriteLine();
        output.WriteLine("Prediction drift in the latest judged window, against the version's baseline window:");
        var table = new Table("VERSION", "WINDOW-END", "OUTPUT", "METHOD", "SCORE", "THRESHOLD", "VERDICT");
        foreach (var (version, w) in judged)
            foreach (var o in w!.PredictionDrift!.Outputs)
                table.Add(version, Time(w.End), o.Feature, o.Method, o.Score, o.Threshold, o.Verdict);
        table.WriteTo(output);
    }

    private static string Time(DateTimeOffset time) => time.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss'Z'", CultureInfo.InvariantCulture);
}
