using System.CommandLine;
using System.Globalization;
using System.Net.Http.Headers;
using System.Text.Json;

namespace Mlops.Stream.Cli;

/// <summary>
/// <c>mlops models ...</c>: list, status, register, promote, canary, rollback, undeploy, deploy, scale, replicas,
/// one admin API call each. Changes print what they did and the model's aliases afterwards;
/// with <c>--output json</c> they print the server's answer (<c>{"model","changed","version","aliases"}</c>).
/// </summary>
internal static class ModelsCommands
{
    private const int DefaultPromotionWaitSeconds = 30;
    private const double MaxPromotionWaitSeconds = 300;

    public static Command Build(CommandRunner runner)
    {
        var models = new Command("models", "List, inspect and change models: register versions, promote, canary, rollback, undeploy, deploy");
        models.Subcommands.Add(List(runner));
        models.Subcommands.Add(Status(runner));
        models.Subcommands.Add(Register(runner));
        models.Subcommands.Add(Promote(runner));
        models.Subcommands.Add(Canary(runner));
        models.Subcommands.Add(Rollback(runner));
        models.Subcommands.Add(Undeploy(runner));
        models.Subcommands.Add(Deploy(runner));
        models.Subcommands.Add(Scale(runner));
        models.Subcommands.Add(Pin(runner, pin: true));
        models.Subcommands.Add(Pin(runner, pin: false));
        models.Subcommands.Add(Replicas(runner));
        return models;
    }

    private static Command List(CommandRunner runner)
    {
        var command = new Command("list", "Every model with its versions, production and serving version, and state (GET /api/v1/models)");
        runner.SetAction(command, async (context, ct) =>
        {
            var answer = await context.Client.GetAsync("api/v1/models", CliJsonContext.Default.IReadOnlyListModelSummaryDto, ct);
            if (WroteJson(context, answer.Json)) return;
            if (answer.Value.Count == 0)
            {
                context.Out.WriteLine("No models registered.");
                return;
            }
            var table = new Table("NAME", "STATE", "LOADED", "PRODUCTION", "SERVING", "VERSIONS", "REASON");
            foreach (var m in answer.Value)
                table.Add(m.Name, m.State, Loaded(m), m.ProductionVersion, m.ServingVersion, Versions(m.Versions), m.Reason);
            table.WriteTo(context.Out);
            if (await CacheSummaryAsync(context, ct) is { } summary) context.Out.WriteLine(summary);
        });
        return command;
    }

    /// <summary><c>yes</c>, <c>no</c> (loads on its next request), with <c>pinned</c>; <c>-</c> from a node before the model cache or a model not served.</summary>
    private static string? Loaded(ModelSummaryDto m) =>
        m.Loaded is not { } loaded || m.State != "ready" ? null : (loaded ? "yes" : "no") + (m.Pinned == true ? ", pinned" : "");

    /// <summary>The node's model cache in one line; null from a node that has none (an older node).</summary>
    private static async Task<string?> CacheSummaryAsync(CommandContext context, CancellationToken ct)
    {
        ModelCacheDto cache;
        try
        {
            cache = (await context.Client.GetAsync("api/v1/model-cache", CliJsonContext.Default.ModelCacheDto, ct)).Value;
        }
        catch (CliException)
        {
            return null;
        }
        var budget = cache.BudgetBytes is { } bytes ? $"{Size(cache.LoadedBytes)} of a {Size(bytes)} budget" : $"{Size(cache.LoadedBytes)}, no memory budget";
        var max = cache.MaxLoaded is { } most ? $" (at most {most})" : "";
        return $"This node: {cache.Loaded} of {cache.Replicas} models loaded{max}, {budget}; {cache.Pinned} pinned; {cache.Loads} loads, {cache.Evictions} evictions.";
    }

    private static string Size(long bytes) => bytes >= 1L << 30
        ? $"{bytes / (double)(1L << 30):0.##} GiB"
        : $"{bytes / (double)(1L << 20):0.#} MiB";

    private static Command Status(CommandRunner runner)
    {
        var model = ModelArgument();
        var command = new Command("status",
            "One model's versions, production and serving version, state and reason, then every replica (GET /api/v1/models/<model> and .../replicas)") { model };
        runner.SetAction(command, async (context, ct) =>
        {
            var name = context.Parse.GetRequiredValue(model);
            var answer = await context.Client.GetAsync($"api/v1/models/{AdminClient.Segment(name)}", CliJsonContext.Default.ModelSummaryDto, ct);
            if (WroteJson(context, answer.Json)) return;
            var m = answer.Value;
            var table = new Table("FIELD", "VALUE")
                .Add("name", m.Name)
                .Add("state", m.State)
                .Add("production", m.ProductionVersion)
                .Add("serving", m.ServingVersion)
                .Add("versions", Versions(m.Versions))
                .Add("reason", m.Reason)
                .Add("loaded", Loaded(m));
            // Fields a newer node adds (per-replica state, last swap...) are shown as compact JSON
            // rather than dropped, so the table never hides what the server said.
            foreach (var (key, value) in m.Extra ?? [])
                table.Add(key, value.ValueKind == JsonValueKind.String ? value.GetString() : value.GetRawText());
            table.WriteTo(context.Out);
            // Every replica across the cluster; a node from before replicas were listed has no such route.
            ApiAnswer<IReadOnlyList<ReplicaDto>> replicas;
            try
            {
                replicas = await context.Client.GetAsync($"api/v1/models/{AdminClient.Segment(name)}/replicas", CliJsonContext.Default.IReadOnlyListReplicaDto, ct);
            }
            catch (CliException e) when (e.ExitCode == ExitCodes.Refused)
            {
                return;
            }
            context.Out.WriteLine();
            WriteReplicas(context, replicas.Value);
            if (SwapInProgress(m.ProductionVersion, replicas.Value) is { } swap)
            {
                context.Out.WriteLine();
                context.Out.WriteLine(swap);
            }
        });
        return command;
    }

    /// <summary>A line when production is not yet what every reachable replica serves: a promotion or rollback still rolling out.</summary>
    private static string? SwapInProgress(int? production, IReadOnlyList<ReplicaDto> replicas)
    {
        var reachable = replicas.Where(r => r.Reachable).ToList();
        if (production is not { } version || reachable.Count == 0 || reachable.All(r => r.ServingVersion == version)) return null;
        var behind = reachable.Where(r => r.ServingVersion != version)
            .Select(r => $"{r.Replica} {(r.ServingVersion is { } serving ? $"serves {serving}" : "serves nothing")} ({r.State})");
        return $"Swap to version {version} in progress: {reachable.Count(r => r.ServingVersion == version)} of {reachable.Count} replicas serve it; " +
               $"waiting for {string.Join(", ", behind)}.";
    }

    private static Command Register(CommandRunner runner)
    {
        var model = ModelArgument();
        model.Validators.Add(result =>
        {
            if (result.GetValueOrDefault<string>() is { Length: > 0 } name && ModelNameRule.Problem(name) is { } problem) result.AddError(problem);
        });
        var file = new Option<FileInfo>("--file", "-f") { Description = "The ONNX model to upload", Required = true, HelpName = "model.onnx" };
        var manifest = new Option<FileInfo>("--manifest", "-m")
        {
            Description = "Optional manifest (JSON: feature_names, labels, description, batching, sample_request); without it the node reads inputs and outputs from the model",
            HelpName = "manifest.json",
        };
        var reference = new Option<FileInfo>("--reference", "-r")
        {
            Description = "Optional reference sample for drift (CSV, the feature names as header, at most 50000 rows): the version's reference profile is " +
                          "computed from it and drift is judged against it with exact two-sample tests",
            HelpName = "data.csv",
        };
        file.AcceptExistingOnly();
        manifest.AcceptExistingOnly();
        reference.AcceptExistingOnly();
        var command = new Command("register", "Upload a new version of a model (POST /api/v1/models/<model>/versions); prints the new version. It serves once promoted")
        {
            model, file, manifest, reference,
        };
        runner.SetAction(command, async (context, ct) =>
        {
            var name = context.Parse.GetRequiredValue(model);
            using var form = new MultipartFormDataContent();
            form.Add(FilePart(context.Parse.GetRequiredValue(file), "application/octet-stream"), "file", context.Parse.GetRequiredValue(file).Name);
            if (context.Parse.GetValue(manifest) is { } manifestFile)
                form.Add(FilePart(manifestFile, "application/json"), "manifest", manifestFile.Name);
            if (context.Parse.GetValue(reference) is { } referenceFile)
                form.Add(FilePart(referenceFile, "text/csv"), "reference", referenceFile.Name);
            var answer = await context.Client.PostAsync($"api/v1/models/{AdminClient.Segment(name)}/versions", form, CliJsonContext.Default.AdminChangeDto, ct);
            WriteChange(context, answer, c => $"Registered {c.Model} version {Table.Cell(c.Version)}.");
        });
        return command;
    }

    private static Command Promote(CommandRunner runner)
    {
        var model = ModelArgument();
        var version = VersionArgument("The version to serve as production");
        var force = new Option<bool>("--force")
        {
            Description = "Accept a breaking change: the version's inputs or outputs differ from the serving version's (clients must change too)",
        };
        var wait = new Option<double?>("--wait")
        {
            Description = "Return only when every replica serves the version (exit 0) or the swap is refused (exit 1); still not serving " +
                          $"when the wait ends is exit 3. Optionally how long: seconds or 45s, 2m (default --timeout, at most {MaxPromotionWaitSeconds} s). " +
                          $"Without --wait the command waits {DefaultPromotionWaitSeconds} s and a version not serving yet is reported, exit 0",
            HelpName = "duration",
            Arity = ArgumentArity.ZeroOrOne,
            CustomParser = result => result.Tokens.Count == 0 ? null : Parsers.Seconds("--wait", 0, MaxPromotionWaitSeconds)(result),
        };
        var command = new Command("promote",
            "Make a version production and wait until it serves; the old production becomes 'previous'. Refused (exit 1) when the version " +
            "fails its checks, has other inputs or outputs than production without --force, or the node refuses to serve it " +
            "(POST /api/v1/models/<model>/promote)") { model, version, force, wait };
        runner.SetAction(command, async (context, ct) =>
        {
            // --wait is for deployment scripts: the exit code alone says whether the version serves everywhere.
            var strict = context.Parse.GetResult(wait) is not null;
            var seconds = (int)Math.Ceiling(strict
                ? context.Parse.GetValue(wait) ?? Math.Min(context.Client.Timeout.TotalSeconds, MaxPromotionWaitSeconds)
                : DefaultPromotionWaitSeconds);
            // The node answers once the version serves, is refused or the wait is over: the call may take that long.
            context.Client.AllowAtLeast(TimeSpan.FromSeconds(seconds + 15));
            var body = AdminClient.Json(new PromoteBody(context.Parse.GetValue(version), context.Parse.GetValue(force)), CliJsonContext.Default.PromoteBody);
            var answer = await context.Client.PostAsync($"{ModelPath(context, model)}/promote?wait_seconds={seconds}", body, CliJsonContext.Default.AdminChangeDto, ct);
            WriteChange(context, answer, c =>
            {
                var change = c.Changed
                    ? $"Promoted {c.Model} version {Table.Cell(c.Version)} to production."
                    : $"{c.Model} version {Table.Cell(c.Version)} is already production; nothing changed.";
                // Not serving within the wait is no refusal: the detail says what it still waits for.
                return c.Outcome == "pending" ? $"{change} {c.Detail}" : change;
            });
            if (strict && answer.Value.Outcome == "pending")
                throw new CliException(ExitCodes.Unavailable,
                    $"version {Table.Cell(answer.Value.Version)} of '{answer.Value.Model}' is production but does not serve on every replica after {seconds} s: {answer.Value.Detail}");
        });
        return command;
    }

    private static Command Canary(CommandRunner runner)
    {
        var model = ModelArgument();
        var version = VersionArgument("The version to send a share of the traffic to");
        var weight = new Option<double>("--weight", "-w")
        {
            Description = "Share of requests for the canary, 0..1 (0.1 = 10%); 0 clears the canary",
            Required = true,
            HelpName = "0..1",
            CustomParser = Parsers.Number("--weight", 0, 1, hint: "; 0 clears the canary"),
        };
        var command = new Command("canary", "Send a weighted share of requests (stable per request id) to a version; --weight 0 clears it (POST /api/v1/models/<model>/canary)")
        {
            model, version, weight,
        };
        runner.SetAction(command, async (context, ct) =>
        {
            var w = context.Parse.GetValue(weight);
            var body = AdminClient.Json(new CanaryBody(context.Parse.GetValue(version), w), CliJsonContext.Default.CanaryBody);
            var answer = await context.Client.PostAsync($"{ModelPath(context, model)}/canary", body, CliJsonContext.Default.AdminChangeDto, ct);
            WriteChange(context, answer, c => (w, c.Changed) switch
            {
                (0, true) => $"Cleared the canary of {c.Model}.",
                (0, false) => $"{c.Model} has no canary; nothing changed.",
                (_, true) => $"Canary of {c.Model}: version {context.Parse.GetValue(version)} at weight {Table.Cell(w)} ({Table.Cell(w * 100)}%).",
                _ => $"Canary of {c.Model} is already version {context.Parse.GetValue(version)} at weight {Table.Cell(w)}; nothing changed.",
            });
        });
        return command;
    }

    private static Command Rollback(CommandRunner runner)
    {
        var model = ModelArgument();
        var command = new Command("rollback", "Serve the previous production version again and clear the canary (POST /api/v1/models/<model>/rollback)") { model };
        runner.SetAction(command, async (context, ct) =>
        {
            var answer = await context.Client.PostAsync($"{ModelPath(context, model)}/rollback", null, CliJsonContext.Default.AdminChangeDto, ct);
            WriteChange(context, answer, c => $"Rolled back {c.Model} to version {Table.Cell(c.Version)}.");
        });
        return command;
    }

    private static Command Undeploy(CommandRunner runner)
    {
        var model = ModelArgument();
        var command = new Command("undeploy", "Stop serving a model; its versions stay registered and 'deploy' brings it back (POST /api/v1/models/<model>/undeploy)") { model };
        runner.SetAction(command, async (context, ct) =>
        {
            var answer = await context.Client.PostAsync($"{ModelPath(context, model)}/undeploy", null, CliJsonContext.Default.AdminChangeDto, ct);
            WriteChange(context, answer, c => c.Changed ? $"Undeployed {c.Model}." : $"{c.Model} is not deployed; nothing changed.");
        });
        return command;
    }

    /// <summary><c>mlops models pin|unpin &lt;model&gt;</c>: a pinned model is never unloaded by a node's memory budget.</summary>
    private static Command Pin(CommandRunner runner, bool pin)
    {
        var model = ModelArgument();
        var verb = pin ? "pin" : "unpin";
        var command = new Command(verb, pin
            ? "Pin a model: no node's memory budget ever unloads it (POST /api/v1/models/<model>/pin)"
            : "Unpin a model: when idle it may be unloaded to make room for another (POST /api/v1/models/<model>/unpin)") { model };
        runner.SetAction(command, async (context, ct) =>
        {
            var answer = await context.Client.PostAsync($"{ModelPath(context, model)}/{verb}", null, CliJsonContext.Default.AdminChangeDto, ct);
            WriteChange(context, answer, c => c.Changed
                ? $"{(pin ? "Pinned" : "Unpinned")} {c.Model}."
                : $"{c.Model} is already {(pin ? "pinned" : "unpinned")}; nothing changed.");
        });
        return command;
    }

    private static Command Deploy(CommandRunner runner)
    {
        var model = ModelArgument();
        var command = new Command("deploy", "Serve an undeployed model again, at the version it had (POST /api/v1/models/<model>/deploy)") { model };
        runner.SetAction(command, async (context, ct) =>
        {
            var answer = await context.Client.PostAsync($"{ModelPath(context, model)}/deploy", null, CliJsonContext.Default.AdminChangeDto, ct);
            WriteChange(context, answer, c => c.Changed
                ? $"Deployed {c.Model} at version {Table.Cell(c.Version)}."
                : $"{c.Model} is already deployed (version {Table.Cell(c.Version)}); nothing changed.");
        });
        return command;
    }

    private const int MaxReplicas = 64;

    private static Command Replicas(CommandRunner runner)
    {
        var model = ModelArgument();
        var command = new Command("replicas",
            "Every replica of a model across the cluster: its node, state, serving version, the request partitions it consumes, their lag, and its queue " +
            "(GET /api/v1/models/<model>/replicas)") { model };
        runner.SetAction(command, async (context, ct) =>
        {
            var answer = await context.Client.GetAsync($"{ModelPath(context, model)}/replicas", CliJsonContext.Default.IReadOnlyListReplicaDto, ct);
            if (WroteJson(context, answer.Json)) return;
            WriteReplicas(context, answer.Value);
        });
        return command;
    }

    private static void WriteReplicas(CommandContext context, IReadOnlyList<ReplicaDto> replicas)
    {
        var table = new Table("REPLICA", "NODE", "STATE", "SERVING", "PARTITIONS", "LAG", "QUEUE", "REASON");
        foreach (var r in replicas)
        {
            var node = r.Node + (r.Local ? " (this node)" : "") + (r.Reachable ? "" : " (unreachable)");
            table.Add(r.Replica, node, r.State, r.ServingVersion, Versions(r.Partitions), r.Lag, r.QueueDepth, r.Reason);
        }
        table.WriteTo(context.Out);
    }

    private static Command Scale(CommandRunner runner)
    {
        var model = ModelArgument();
        var replicas = new Option<int?>("--replicas", "-r")
        {
            Description = $"Run this many replicas of the model across the cluster (1 to {MaxReplicas}), placed on different nodes while there are enough",
            HelpName = "N",
            CustomParser = Parsers.IntBetween("--replicas", 1, MaxReplicas),
        };
        var perNode = new Option<bool>("--per-node") { Description = "Go back to the default: one replica per node that is up" };
        var min = new Option<int?>("--min")
        {
            Description = "Autoscale: the fewest replicas (with --max); the backlog per replica (lag + queue) moves the count between them",
            HelpName = "N",
            CustomParser = Parsers.IntBetween("--min", 1, MaxReplicas),
        };
        var max = new Option<int?>("--max")
        {
            Description = "Autoscale: the most replicas (with --min); never more than the request topic's partitions",
            HelpName = "N",
            CustomParser = Parsers.IntBetween("--max", 1, MaxReplicas),
        };
        var command = new Command("scale",
            "Show or set how many replicas of a model the cluster runs: a fixed count, autoscaling between --min and --max, or one per " +
            "node; without options, show it (GET or POST /api/v1/models/<model>/scale)") { model, replicas, perNode, min, max };
        command.Validators.Add(result =>
        {
            // Whether an option was given, not its value: reading a value its parser refused (0, 65) throws.
            bool Given(Option option) => result.GetResult(option) is { Implicit: false };
            if (Given(perNode) && (Given(replicas) || Given(min) || Given(max))) result.AddError("--per-node goes alone");
            if (Given(min) != Given(max)) result.AddError("give --min and --max together");
        });
        runner.SetAction(command, async (context, ct) =>
        {
            var (count, low, high) = (context.Parse.GetValue(replicas), context.Parse.GetValue(min), context.Parse.GetValue(max));
            var change = count is not null || low is not null || context.Parse.GetValue(perNode);
            var answer = change
                ? await context.Client.PostAsync($"{ModelPath(context, model)}/scale",
                    AdminClient.Json(new ScaleBody(count, low, high), CliJsonContext.Default.ScaleBody), CliJsonContext.Default.ScaleDto, ct)
                : await context.Client.GetAsync($"{ModelPath(context, model)}/scale", CliJsonContext.Default.ScaleDto, ct);
            if (WroteJson(context, answer.Json)) return;
            var scale = answer.Value;
            var what = scale switch
            {
                { Min: { } lo, Max: { } hi } => $"{scale.Replicas} replica(s), autoscaled from {lo} to {hi}",
                { Replicas: { } n } => $"{n} replica(s)",
                _ => "one replica per node",
            };
            context.Out.WriteLine(scale.Changed switch
            {
                true => $"Scaled {scale.Model} to {what}.",
                false => $"{scale.Model} already runs {what}; nothing changed.",
                null => $"{scale.Model} runs {what}.",
            });
            if (scale.LastDecision is { } d)
                context.Out.WriteLine($"Last autoscaling: {d.From} -> {d.To} at {d.At:u}: {d.Reason}.");
        });
        return command;
    }

    internal static Argument<string> ModelArgument()
    {
        var argument = new Argument<string>("model") { Description = "The model's name" };
        argument.Validators.Add(result =>
        {
            if (string.IsNullOrWhiteSpace(result.GetValueOrDefault<string>())) result.AddError("the model name must not be empty");
        });
        return argument;
    }

    private static Argument<int> VersionArgument(string description)
    {
        return new Argument<int>("version") { Description = description, CustomParser = Parsers.PositiveInt("the version") };
    }

    private static string ModelPath(CommandContext context, Argument<string> model) =>
        $"api/v1/models/{AdminClient.Segment(context.Parse.GetRequiredValue(model))}";

    private static StreamContent FilePart(FileInfo file, string mediaType)
    {
        FileStream stream;
        try
        {
            stream = file.OpenRead();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new CliException(ExitCodes.Usage, $"cannot read {file.FullName}: {e.Message}");
        }
        var content = new StreamContent(stream);
        content.Headers.ContentType = new MediaTypeHeaderValue(mediaType);
        return content;
    }

    private static string Versions(IReadOnlyList<int> versions) => string.Join(",", versions);

    /// <summary>In json mode the server's answer is the whole output; returns whether it was written.</summary>
    internal static bool WroteJson(CommandContext context, string json)
    {
        if (context.Format != OutputFormat.Json) return false;
        context.Out.WriteLine(json.Trim());
        return true;
    }

    /// <summary>A change's summary line, then the model's aliases as they are now.</summary>
    private static void WriteChange(CommandContext context, ApiAnswer<AdminChangeDto> answer, Func<AdminChangeDto, string> summary)
    {
        if (WroteJson(context, answer.Json)) return;
        context.Out.WriteLine(summary(answer.Value));
        if (answer.Value.Aliases.Count == 0) return;
        context.Out.WriteLine();
        var table = new Table("ALIAS", "VERSION", "WEIGHT");
        foreach (var (alias, target) in answer.Value.Aliases.OrderBy(a => AliasOrder(a.Key)).ThenBy(a => a.Key, StringComparer.Ordinal))
            table.Add(alias, target.Version, target.Weight);
        table.WriteTo(context.Out);
    }

    private static int AliasOrder(string alias) => alias switch
    {
        "production" => 0,
        "canary" => 1,
        "previous" => 2,
        _ => 3,
    };
}
