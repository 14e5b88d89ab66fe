using System.CommandLine;

namespace Mlops.Stream.Cli;

/// <summary>
/// <c>mlops cluster show|leave|down</c>: the Akka cluster's members as the node sees them, and the two
/// membership changes an operator makes. Leave and down print what the node accepted; with
/// <c>--output json</c> they print its answer (<c>{"address","action","previous_status"}</c>).
/// </summary>
internal static class ClusterCommands
{
    public static Command Build(CommandRunner runner)
    {
        var cluster = new Command("cluster", "Show the Akka cluster's members and take one out: leave (graceful) or down (crashed, unreachable)");
        cluster.Subcommands.Add(Show(runner));
        cluster.Subcommands.Add(Change(runner, "leave",
            "Ask a member to leave gracefully: its shards are handed off, then it stops (POST /api/v1/cluster/leave)",
            c => $"Asked {c.Address} to leave the cluster (was {c.PreviousStatus}); its shards move to other members before it stops."));
        cluster.Subcommands.Add(Change(runner, "down",
            "Declare a crashed or unreachable member down, so the cluster removes it without waiting for it (POST /api/v1/cluster/down)",
            c => $"Marked {c.Address} as down (was {c.PreviousStatus}); the leader removes it and its shards start elsewhere."));
        return cluster;
    }

    private static Command Show(CommandRunner runner)
    {
        var command = new Command("show", "Every member, oldest first: address, status, roles, leader, reachability (GET /api/v1/cluster)");
        runner.SetAction(command, async (context, ct) =>
        {
            var answer = await context.Client.GetAsync("api/v1/cluster", ClusterJsonContext.Default.ClusterStateDto, ct);
            if (ModelsCommands.WroteJson(context, answer.Json)) return;
            if (answer.Value.Members.Count == 0)
            {
                context.Out.WriteLine($"No members: {answer.Value.Self} has not joined a cluster yet.");
                return;
            }
            var table = new Table("ADDRESS", "STATUS", "ROLES", "LEADER", "REACHABLE");
            foreach (var m in answer.Value.Members)
                table.Add(m.Self ? $"{m.Address} (this node)" : m.Address, m.Status, string.Join(",", m.Roles), m.Leader ? "*" : null, m.Reachable ? "yes" : "no");
            table.WriteTo(context.Out);
        });
        return command;
    }

    private static Command Change(CommandRunner runner, string action, string description, Func<ClusterChangeDto, string> summary)
    {
        var address = AddressArgument();
        var command = new Command(action, description) { address };
        runner.SetAction(command, async (context, ct) =>
        {
            var body = AdminClient.Json(new MemberAddressBody(context.Parse.GetRequiredValue(address).Trim()), ClusterJsonContext.Default.MemberAddressBody);
            var answer = await context.Client.PostAsync($"api/v1/cluster/{action}", body, ClusterJsonContext.Default.ClusterChangeDto, ct);
            if (ModelsCommands.WroteJson(context, answer.Json)) return;
            context.Out.WriteLine(summary(answer.Value));
        });
        return command;
    }

    /// <summary>
    /// Checked before anything is sent, so a typo is a usage error (exit 2); whether the address is a
    /// member is the node's call (exit 1 when it is not).
    /// </summary>
    private static Argument<string> AddressArgument()
    {
        var argument = new Argument<string>("address") { Description = "The member's Akka address, as 'mlops cluster show' prints it: akka.tcp://<system>@<host>:<port>" };
        argument.Validators.Add(result =>
        {
            var text = result.GetValueOrDefault<string>()?.Trim() ?? "";
            if (!Uri.TryCreate(text, UriKind.Absolute, out var uri) || !uri.Scheme.StartsWith("akka", StringComparison.Ordinal)
                || uri.UserInfo.Length == 0 || uri.IsDefaultPort)
                result.AddError($"the address must look like akka.tcp://<system>@<host>:<port> (got '{text}')");
        });
        return argument;
    }
}
