using System.CommandLine;
using System.Globalization;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;

namespace Mlops.Stream.Cli;

/// <summary>
/// <c>mlops feedback &lt;model&gt; (--id ID --label LABEL | --file labels.jsonl)</c>: writes ground-truth
/// labels to the model's feedback topic (POST /api/v1/models/{model}/feedback), which its drift job
/// joins to the served requests to report accuracy, precision, recall and ROC AUC per window. A file
/// holds one <c>{"id": ..., "label": ...}</c> object per line (blank lines skipped) and is sent in
/// batches of at most <see cref="MaxBatch"/>; a line that is not a JSON object is refused before
/// anything is sent. Exit 0 when every label was written.
/// </summary>
internal static class FeedbackCommand
{
    /// <summary>The node's produce limit per call.</summary>
    public const int MaxBatch = 1000;

    public static Command Build(CommandRunner runner)
    {
        var model = ModelsCommands.ModelArgument();
        var id = new Option<string?>("--id") { Description = "The request id the label is for (the v2 request's id)", HelpName = "ID" };
        var label = new Option<string?>("--label")
        {
            Description = "The true class: an index (1), a name among the model's labels (fraud), or true/false",
            HelpName = "LABEL",
        };
        var file = new Option<FileInfo?>("--file", "-f")
        {
            Description = $"JSON lines, one {{\"id\": ..., \"label\": ...}} per line, sent in batches of {MaxBatch}",
            HelpName = "path",
        };
        var command = new Command("feedback",
            "Write ground-truth labels of served requests to the model's feedback topic, for the drift job's accuracy per window " +
            "(POST /api/v1/models/<model>/feedback)") { model, id, label, file };
        runner.SetAction(command, async (context, ct) =>
        {
            var name = context.Parse.GetRequiredValue(model);
            var path = context.Parse.GetValue(file);
            var lines = Lines(context.Parse.GetValue(id), context.Parse.GetValue(label), path);
            string? topic = null;
            for (var start = 0; start < lines.Count; start += MaxBatch)
            {
                var batch = lines.Skip(start).Take(MaxBatch).ToList();
                using var content = new StringContent($"[{string.Join(",", batch.Select(l => l.Json))}]", Encoding.UTF8);
                content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
                try
                {
                    var answer = await context.Client.PostAsync($"api/v1/models/{AdminClient.Segment(name)}/feedback", content,
                        KafkaJsonContext.Default.ProducedRequestsDto, ct);
                    topic = answer.Value.Topic;
                }
                catch (CliException e) when (path is not null)
                {
                    throw new CliException(e.ExitCode, $"{e.Message} (in the batch of lines {batch[0].Line} to {batch[^1].Line}; " +
                                                       $"{start} label(s) before it were written)");
                }
            }

            if (context.Format == OutputFormat.Json)
                context.Out.WriteLine(JsonSerializer.Serialize(new FeedbackWritten(name, topic!, lines.Count), KafkaJsonContext.Default.FeedbackWritten));
            else
                context.Out.WriteLine(string.Create(CultureInfo.InvariantCulture, $"Wrote {lines.Count} label(s) to {topic}."));
        });
        return command;
    }

    /// <summary>The labels to send, each as its JSON object and the line it came from (1 for --id/--label).</summary>
    private static List<(string Json, int Line)> Lines(string? id, string? label, FileInfo? file)
    {
        if (file is null)
        {
            if (string.IsNullOrEmpty(id) || string.IsNullOrEmpty(label))
                throw new CliException(ExitCodes.Usage, "give --id and --label for one label, or --file with one JSON object per line");
            return [(OneLabel(id, label), 1)];
        }

        if (id is not null || label is not null)
            throw new CliException(ExitCodes.Usage, "give either --file or --id and --label, not both");
        if (!file.Exists) throw new CliException(ExitCodes.Usage, $"--file {file.FullName} does not exist");
        var lines = new List<(string, int)>();
        var number = 0;
        foreach (var line in File.ReadLines(file.FullName))
        {
            number++;
            if (string.IsNullOrWhiteSpace(line)) continue;
            try
            {
                using var document = JsonDocument.Parse(line);
                if (document.RootElement.ValueKind != JsonValueKind.Object) throw new JsonException("not a JSON object");
            }
            catch (JsonException e)
            {
                throw new CliException(ExitCodes.Usage, $"{file.Name} line {number} is not a JSON object {{\"id\": ..., \"label\": ...}}: {e.Message}");
            }

            lines.Add((line.Trim(), number));
        }

        return lines.Count > 0 ? lines : throw new CliException(ExitCodes.Usage, $"{file.Name} holds no labels");
    }

    /// <summary><c>{"id": ..., "label": ...}</c> with the label as an index when it is a number, a boolean for true/false, else a class name.</summary>
    private static string OneLabel(string id, string label)
    {
        using var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            writer.WriteString("id", id);
            if (int.TryParse(label, NumberStyles.None, CultureInfo.InvariantCulture, out var index)) writer.WriteNumber("label", index);
            else if (bool.TryParse(label, out var flag)) writer.WriteBoolean("label", flag);
            else writer.WriteString("label", label);
            writer.WriteEndObject();
        }

        return Encoding.UTF8.GetString(buffer.ToArray());
    }
}
