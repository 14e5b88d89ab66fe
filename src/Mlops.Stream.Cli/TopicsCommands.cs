using System.CommandLine;

namespace Mlops.Stream.Cli;

/// <summary>
/// <c>mlops topics list|describe</c>: the project's Kafka topics with partitions and end offsets, and
/// one topic's watermarks and the lag of the consumer groups the node runs (GET /api/v1/topics[/{name}]).
/// </summary>
internal static class TopicsCommands
{
    public static Command Build(CommandRunner runner)
    {
        var topics = new Command("topics", "The node's Kafka topics: families, partitions, end offsets, consumer lag");
        topics.Subcommands.Add(List(runner));
        topics.Subcommands.Add(Describe(runner));
        return topics;
    }

    private static Command List(CommandRunner runner)
    {
        var command = new Command("list",
            "Every topic of the project on the broker (shared ones and each model's requests, predictions, served, dlq) " +
            "with its family, model, partitions and summed end offset (GET /api/v1/topics)");
        runner.SetAction(command, async (context, ct) =>
        {
            var answer = await context.Client.GetAsync("api/v1/topics", KafkaJsonContext.Default.IReadOnlyListTopicSummaryDto, ct);
            if (ModelsCommands.WroteJson(context, answer.Json)) return;
            if (answer.Value.Count == 0)
            {
                context.Out.WriteLine("No topics of the project on the broker yet.");
                return;
            }
            var table = new Table("TOPIC", "FAMILY", "MODEL", "PARTITIONS", "END-OFFSET");
            foreach (var t in answer.Value) table.Add(t.Name, t.Family, t.Model, t.Partitions, t.EndOffset);
            table.WriteTo(context.Out);
        });
        return command;
    }

    private static Command Describe(CommandRunner runner)
    {
        var topic = new Argument<string>("topic") { Description = "The topic's full name, e.g. mlops.requests.fraud-demo.v1" };
        topic.Validators.Add(result =>
        {
            if (string.IsNullOrWhiteSpace(result.GetValueOrDefault<string>())) result.AddError("the topic name must not be empty");
        });
        var command = new Command("describe",
            "One topic: low and high watermark per partition, and per consumer group of the node (the serving group " +
            "of a request topic) the committed offset and lag per partition (GET /api/v1/topics/<topic>)") { topic };
        runner.SetAction(command, async (context, ct) =>
        {
            var name = context.Parse.GetRequiredValue(topic);
            var answer = await context.Client.GetAsync($"api/v1/topics/{AdminClient.Segment(name)}", KafkaJsonContext.Default.TopicDetailDto, ct);
            if (ModelsCommands.WroteJson(context, answer.Json)) return;
            WriteDetail(context.Out, answer.Value);
        });
        return command;
    }

    private static void WriteDetail(TextWriter output, TopicDetailDto topic)
    {
        var family = topic.Family is null ? "no family of the project" : $"family {topic.Family}";
        var model = topic.Model is null ? "" : $", model {topic.Model}";
        output.WriteLine($"Topic {topic.Name}: {family}{model}, {topic.Partitions.Count} partitions, end offset {topic.EndOffset}.");
        output.WriteLine();
        var partitions = new Table("PARTITION", "LOW", "HIGH");
        foreach (var p in topic.Partitions) partitions.Add(p.Partition, p.Low, p.High);
        partitions.WriteTo(output);
        output.WriteLine();
        if (topic.Groups.Count == 0)
        {
            output.WriteLine("No consumer group of this node reads the topic (groups of other applications are not listed).");
            return;
        }
        var highs = topic.Partitions.ToDictionary(p => p.Partition, p => p.High);
        var groups = new Table("GROUP", "PARTITION", "COMMITTED", "END-OFFSET", "LAG");
        foreach (var g in topic.Groups)
            foreach (var p in g.Partitions)
                groups.Add(g.Group, p.Partition, p.Committed, highs.GetValueOrDefault(p.Partition), p.Lag);
        groups.WriteTo(output);
        output.WriteLine();
        foreach (var g in topic.Groups) output.WriteLine($"Group {g.Group}: lag {g.Lag}.");
    }
}
