using System.CommandLine;
using System.Globalization;

namespace Mlops.Stream.Cli;

/// <summary><c>mlops audit [--limit N]</c>: the cluster's recent admin changes, newest first (GET /api/v1/audit).</summary>
internal static class AuditCommand
{
    /// <summary>The node clamps the limit to 1..1000; the CLI refuses values outside it instead of silently getting fewer.</summary>
    public const int MaxLimit = 1000;

    public static Command Build(CommandRunner runner)
    {
        var limit = new Option<int?>("--limit", "-n")
        {
            Description = $"How many entries, 1..{MaxLimit} (the node's default: 100)",
            HelpName = "N",
            CustomParser = Parsers.IntBetween("--limit", 1, MaxLimit),
        };
        var command = new Command("audit", "Recent admin changes in the cluster, newest first: when, who, what, result (GET /api/v1/audit)") { limit };
        runner.SetAction(command, async (context, ct) =>
        {
            var path = context.Parse.GetValue(limit) is { } n ? $"api/v1/audit?limit={n.ToString(CultureInfo.InvariantCulture)}" : "api/v1/audit";
            var answer = await context.Client.GetAsync(path, CliJsonContext.Default.IReadOnlyListAuditEventDto, ct);
            if (ModelsCommands.WroteJson(context, answer.Json)) return;
            if (answer.Value.Count == 0)
            {
                context.Out.WriteLine("No admin changes recorded.");
                return;
            }
            var table = new Table("TIME", "ACTOR", "ACTION", "MODEL", "VERSION", "RESULT", "DETAIL");
            foreach (var e in answer.Value)
                table.Add(e.Timestamp.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss'Z'", CultureInfo.InvariantCulture),
                    e.Actor, e.Action, e.Model, e.Version, e.Result, e.Detail);
            table.WriteTo(context.Out);
        });
        return command;
    }
}
