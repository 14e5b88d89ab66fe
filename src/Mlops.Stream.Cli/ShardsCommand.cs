using System.CommandLine;

namespace Mlops.Stream.Cli;

/// <summary>
/// <c>mlops shards</c>: which node runs which model replica, one row per entity (GET /api/v1/shards).
/// Nodes that did not answer, and shards that did not report, are listed under the table rather than
/// failing the command: a partial picture is what an operator needs while a node is in trouble.
/// </summary>
internal static class ShardsCommand
{
    public static Command Build(CommandRunner runner)
    {
        var command = new Command("shards", "Where model replicas run: node, model, entity and shard for every cluster member (GET /api/v1/shards)");
        runner.SetAction(command, async (context, ct) =>
        {
            var answer = await context.Client.GetAsync("api/v1/shards", ClusterJsonContext.Default.ShardPlacementDto, ct);
            if (ModelsCommands.WroteJson(context, answer.Json)) return;
            var table = new Table("NODE", "MODEL", "ENTITY", "SHARD");
            var notes = new List<string>();
            var rows = 0;
            foreach (var node in answer.Value.Nodes)
            {
                if (node.Answer != NodeShardsDto.Answered)
                    notes.Add($"{node.Address}: {node.Error ?? node.Answer}");
                foreach (var shard in node.Shards)
                {
                    // A shard without entities still shows, so the table says where every shard lives.
                    if (shard.Entities.Count == 0) table.Add(node.Address, null, null, shard.ShardId);
                    foreach (var entity in shard.Entities) table.Add(node.Address, entity.Model, entity.EntityId, shard.ShardId);
                    rows += Math.Max(1, shard.Entities.Count);
                }
                if (node.FailedShards.Count > 0)
                    notes.Add($"{node.Address}: shards {string.Join(", ", node.FailedShards)} did not report their entities in time");
            }
            if (rows > 0) table.WriteTo(context.Out);
            else context.Out.WriteLine("No shards: no model replica runs on the nodes that answered.");
            if (notes.Count == 0) return;
            context.Out.WriteLine();
            foreach (var note in notes) context.Out.WriteLine(note);
        });
        return command;
    }
}
