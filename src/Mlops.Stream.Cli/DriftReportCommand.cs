using System.CommandLine;
using System.Globalization;

namespace Mlops.Stream.Cli;

/// <summary>
/// <c>mlops drift report &lt;model&gt; [--out FILE] [--png --feature F] [--version N] [--windows N]</c>:
/// saves the node's drift report (GET /api/v1/models/{model}/drift/report): one self-contained HTML
/// page, or with <c>--png</c> one feature's charts as a PNG. The node renders it, so the file is the
/// same whichever client fetched it; the CLI only checks the media type and says where it wrote.
/// </summary>
internal static class DriftReportCommand
{
    public static Command Build(CommandRunner runner)
    {
        var model = ModelsCommands.ModelArgument();
        var output = new Option<FileInfo?>("--out")
        {
            Description = "Where to write it (default: <model>-drift-report.html, or <model>-<feature>-drift.png with --png, in the current folder); an existing file is replaced",
            HelpName = "FILE",
        };
        var png = new Option<bool>("--png") { Description = "One feature's histograms and score history as a PNG instead of the HTML page (needs --feature)" };
        var feature = new Option<string?>("--feature") { Description = "The feature to draw with --png", HelpName = "NAME" };
        var version = new Option<int?>("--version")
        {
            Description = "The model version whose windows to report (default: the newest version with windows)",
            HelpName = "N",
            CustomParser = Parsers.IntBetween("--version", 1, int.MaxValue),
        };
        var windows = new Option<int?>("--windows", "-n")
        {
            Description = $"Recent windows to show, 1..{DriftCommands.MaxWindows} (the node's default: 30)",
            HelpName = "N",
            CustomParser = Parsers.IntBetween("--windows", 1, DriftCommands.MaxWindows),
        };
        var command = new Command("report",
            "Save the drift report: a self-contained HTML page (summary table, per feature the reference and latest-window histograms " +
            "and the score over recent windows), or one feature as PNG (GET /api/v1/models/<model>/drift/report)") { model, output, png, feature, version, windows };
        command.Validators.Add(result =>
        {
            var wantsPng = result.GetValue(png);
            var name = result.GetValue(feature);
            if (wantsPng && string.IsNullOrEmpty(name)) result.AddError("--png draws one feature: add --feature <name>");
            if (!wantsPng && name is not null) result.AddError("--feature goes with --png (the HTML report shows every feature)");
        });
        runner.SetAction(command, async (context, ct) =>
        {
            var name = context.Parse.GetRequiredValue(model);
            var featureName = context.Parse.GetValue(feature);
            var query = new List<string>();
            if (context.Parse.GetValue(version) is { } v) query.Add($"version={v.ToString(CultureInfo.InvariantCulture)}");
            if (context.Parse.GetValue(windows) is { } n) query.Add($"windows={n.ToString(CultureInfo.InvariantCulture)}");
            if (featureName is not null) query.AddRange(["format=png", $"feature={Uri.EscapeDataString(featureName)}"]);
            var path = $"api/v1/models/{AdminClient.Segment(name)}/drift/report" + (query.Count == 0 ? "" : "?" + string.Join('&', query));

            var bytes = await context.Client.DownloadAsync(path, featureName is null ? "text/html" : "image/png", ct);
            var file = context.Parse.GetValue(output) ?? new FileInfo(featureName is null ? $"{name}-drift-report.html" : $"{name}-{FileNamePart(featureName)}-drift.png");
            try
            {
                await File.WriteAllBytesAsync(file.FullName, bytes, ct);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                throw new CliException(ExitCodes.Usage, $"cannot write {file.FullName}: {e.Message}");
            }

            context.Out.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"Wrote the drift report of {name}{(featureName is null ? "" : $", feature {featureName}")} to {file.FullName} ({bytes.Length:N0} bytes)."));
        });
        return command;
    }

    /// <summary>A feature name as part of a file name: anything but letters, digits, '-' and '_' becomes '_'.</summary>
    private static string FileNamePart(string feature) =>
        string.Concat(feature.Select(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' ? c : '_'));
}
