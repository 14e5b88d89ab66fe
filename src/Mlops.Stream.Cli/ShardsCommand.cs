using System.CommandLine;

namespace Mlops.Stream.Cli;

/// <summary>
/// <c>mlops shards</c>: which node runs which model replica, one row per entity (GET /api/v1/shards),
/// with each replica's state, the request partitions it consumes, their lag and its queue (GET
/// /api/v1/models/{model}/replicas per model; "-" where a replica or an older node did not say).
/// Nodes that did not answer, and shards that did not report, are listed under the table rather than
/// failing the command: a partial picture is what an operator needs while a node is in trouble.
/// </summary>
internal static class ShardsCommand
{
    public static Command Build(CommandRunner runner)
    {
        var command = new Command("shards",
            "Where model replicas run: node, model, entity and shard for every cluster member, with each replica's state, partitions, lag and " +
            "queue (GET /api/v1/shards and /api/v1/models/<model>/replicas)");
        runner.SetAction(command, async (context, ct) =>
        {
            var answer = await context.Client.GetAsync("api/v1/shards", ClusterJsonContext.Default.ShardPlacementDto, ct);
            if (ModelsCommands.WroteJson(context, answer.Json)) return;
            var replicas = await ReplicasAsync(context, answer.Value, ct);
            var table = new Table("NODE", "MODEL", "ENTITY", "SHARD", "STATE", "PARTITIONS", "LAG", "QUEUE");
            var notes = new List<string>();
            var rows = 0;
            foreach (var node in answer.Value.Nodes)
            {
                if (node.Answer != NodeShardsDto.Answered)
                    notes.Add($"{node.Address}: {node.Error ?? node.Answer}");
                foreach (var shard in node.Shards)
                {
                    // A shard without entities still shows, so the table says where every shard lives.
                    if (shard.Entities.Count == 0) table.Add(node.Address, null, null, shard.ShardId, null, null, null, null);
                    foreach (var entity in shard.Entities)
                    {
                        var replica = replicas.GetValueOrDefault(entity.EntityId);
                        table.Add(node.Address, entity.Model, entity.EntityId, shard.ShardId, replica?.State,
                            replica is null ? null : string.Join(",", replica.Partitions), replica?.Lag, replica?.QueueDepth);
                    }
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

    /// <summary>Every replica the nodes know of, by entity id, for the models in the placement; a model whose replicas cannot be read is left out.</summary>
    private static async Task<Dictionary<string, ReplicaDto>> ReplicasAsync(CommandContext context, ShardPlacementDto placement, CancellationToken ct)
    {
        var replicas = new Dictionary<string, ReplicaDto>(StringComparer.Ordinal);
        var models = placement.Nodes.SelectMany(n => n.Shards).SelectMany(s => s.Entities).Select(e => e.Model).OfType<string>().Distinct();
        foreach (var model in models)
        {
            try
            {
                var answer = await context.Client.GetAsync($"api/v1/models/{AdminClient.Segment(model)}/replicas", CliJsonContext.Default.IReadOnlyListReplicaDto, ct);
                foreach (var replica in answer.Value) replicas[replica.Replica] = replica;
            }
            catch (CliException e) when (e.ExitCode == ExitCodes.Refused)
            {
                // An older node without the route, or a model gone since: the placement alone is still worth showing.
            }
        }
        return replicas;
    }
}
