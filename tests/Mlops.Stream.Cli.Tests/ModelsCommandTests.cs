using System.Text;
using System.Text.Json;

namespace Mlops.Stream.Cli.Tests;

/// <summary>Each model command against the fake admin API: the request it sends, what it prints, exit 0.</summary>
public sealed class ModelsCommandTests(FakeAdminApi api) : IClassFixture<FakeAdminApi>, IDisposable
{
    private readonly string _scratch = Directory.CreateTempSubdirectory("mlops-cli-tests-").FullName;

    private Task<CliRun> Mlops(params string[] args) => CliRun.RunAsync(null, [.. args, "--url", api.Url]);

    [Fact]
    public async Task Models_list_prints_one_row_per_model_under_a_header()
    {
        var run = await Mlops("models", "list");

        Assert.Equal(ExitCodes.Ok, run.ExitCode);
        Assert.Equal("", run.Stderr);
        Assert.Equal("GET", api.Last("/api/v1/models").Method);
        var lines = run.StdoutLines;
        Assert.Equal(4, lines.Length);
        Assert.Matches(@"^NAME\s+STATE\s+LOADED\s+PRODUCTION\s+SERVING\s+VERSIONS\s+REASON$", lines[0]);
        Assert.Matches(@"^churn\s+not_serving\s+-\s+-\s+-\s+1\s+-$", lines[1]);
        Assert.Matches(@"^fraud-demo\s+ready\s+yes, pinned\s+2\s+2\s+1,2,3\s+-$", lines[2]);
        Assert.Equal("This node: 10 of 50 models loaded, 42 MiB of a 2 GiB budget; 1 pinned; 120 loads, 110 evictions.", lines[3]);
    }

    [Fact]
    public async Task Models_list_as_json_prints_the_servers_json_as_it_answered()
    {
        var run = await Mlops("models", "list", "--output", "json");

        Assert.Equal(ExitCodes.Ok, run.ExitCode);
        Assert.Equal(FakeAdminApi.ModelsJson.Trim(), run.Stdout.Trim());
        Assert.Equal(2, JsonDocument.Parse(run.Stdout).RootElement.GetArrayLength());
    }

    [Fact]
    public async Task Models_status_prints_every_field_including_ones_the_cli_does_not_know()
    {
        var run = await Mlops("models", "status", "fraud-demo");

        Assert.Equal(ExitCodes.Ok, run.ExitCode);
        Assert.Equal("GET", api.Last("/api/v1/models/fraud-demo").Method);
        var lines = run.StdoutLines;
        Assert.Matches(@"^FIELD\s+VALUE$", lines[0]);
        Assert.Contains(lines, l => System.Text.RegularExpressions.Regex.IsMatch(l, @"^state\s+ready$"));
        Assert.Contains(lines, l => System.Text.RegularExpressions.Regex.IsMatch(l, @"^production\s+2$"));
        Assert.Contains(lines, l => System.Text.RegularExpressions.Regex.IsMatch(l, @"^versions\s+1,2,3$"));
        Assert.Contains(lines, l => System.Text.RegularExpressions.Regex.IsMatch(l, @"^last_swap\s+2026-11-24T09:50:01Z$"));
    }

    [Fact]
    public async Task Models_status_lists_every_replica_with_its_node_partitions_lag_and_queue()
    {
        var run = await Mlops("models", "status", "fraud-demo");

        Assert.Equal(ExitCodes.Ok, run.ExitCode);
        var lines = run.StdoutLines;
        var header = lines.ToList().FindIndex(l => l.StartsWith("REPLICA", StringComparison.Ordinal));
        Assert.True(header > 0, run.Stdout);
        Assert.Matches(@"^REPLICA\s+NODE\s+STATE\s+SERVING\s+PARTITIONS\s+LAG\s+QUEUE\s+REASON$", lines[header]);
        Assert.Matches(@"^fraud-demo#0\s+akka.tcp://mlops@10.0.0.1:4053 \(this node\)\s+ready\s+2\s+0,1,2\s+4\s+1\s+-$", lines[header + 1]);
        Assert.Matches(@"^fraud-demo#1\s+akka.tcp://mlops@10.0.0.2:4053 \(unreachable\)\s+unknown\s+-", lines[header + 2]);
    }

    [Fact]
    public async Task Models_status_shows_a_swap_still_rolling_out_and_which_replicas_it_waits_for()
    {
        var swapping = await Mlops("models", "status", "swapping");
        var settled = await Mlops("models", "status", "fraud-demo");

        Assert.Equal(ExitCodes.Ok, swapping.ExitCode);
        Assert.Equal("Swap to version 3 in progress: 1 of 2 replicas serve it; waiting for swapping#1 serves 2 (loading).", swapping.StdoutLines[^1]);
        Assert.DoesNotContain(settled.StdoutLines, l => l.StartsWith("Swap", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Models_status_as_json_prints_the_servers_object()
    {
        var run = await Mlops("models", "status", "fraud-demo", "-o", "json");

        Assert.Equal(ExitCodes.Ok, run.ExitCode);
        var root = JsonDocument.Parse(run.Stdout).RootElement;
        Assert.Equal("fraud-demo", root.GetProperty("name").GetString());
        Assert.Equal(2, root.GetProperty("serving_version").GetInt32());
    }

    [Fact]
    public async Task Models_register_uploads_the_file_and_the_manifest_as_multipart_and_prints_the_new_version()
    {
        var onnx = new byte[] { 0x08, 0x07, 0x12, 0x00, 0xff, 0x42 };
        var onnxPath = Path.Combine(_scratch, "model.onnx");
        var manifestPath = Path.Combine(_scratch, "manifest.json");
        await File.WriteAllBytesAsync(onnxPath, onnx);
        const string manifest = """{"feature_names":["a","b"],"labels":["ok","fraud"]}""";
        await File.WriteAllTextAsync(manifestPath, manifest);

        var run = await Mlops("models", "register", "reg-with-manifest", "--file", onnxPath, "--manifest", manifestPath);

        Assert.Equal(ExitCodes.Ok, run.ExitCode);
        var request = api.Last("/api/v1/models/reg-with-manifest/versions");
        Assert.Equal("POST", request.Method);
        Assert.StartsWith("multipart/form-data", request.ContentType);
        Assert.Equal(onnx, request.Files["file"]);
        Assert.Equal(manifest, Encoding.UTF8.GetString(request.Files["manifest"]));
        Assert.Equal("Registered reg-with-manifest version 3.", run.StdoutLines[0]);
        Assert.Contains(run.StdoutLines, l => System.Text.RegularExpressions.Regex.IsMatch(l, @"^production\s+2\s+-$"));
    }

    [Fact]
    public async Task Models_register_without_a_manifest_sends_the_file_only_and_json_output_has_the_version()
    {
        var onnxPath = Path.Combine(_scratch, "plain.onnx");
        await File.WriteAllBytesAsync(onnxPath, [1, 2, 3]);

        var run = await Mlops("models", "register", "reg-plain", "-f", onnxPath, "--output", "json");

        Assert.Equal(ExitCodes.Ok, run.ExitCode);
        var request = api.Last("/api/v1/models/reg-plain/versions");
        Assert.Equal(["file"], request.Files.Keys);
        Assert.Equal(new byte[] { 1, 2, 3 }, request.Files["file"]);
        Assert.Equal(3, JsonDocument.Parse(run.Stdout).RootElement.GetProperty("version").GetInt32());
    }

    [Fact]
    public async Task Models_promote_posts_the_version_and_prints_the_aliases_after_it()
    {
        var run = await Mlops("models", "promote", "fraud-demo", "3");

        Assert.Equal(ExitCodes.Ok, run.ExitCode);
        var request = api.Last("/api/v1/models/fraud-demo/promote");
        Assert.Equal(3, JsonDocument.Parse(request.Body).RootElement.GetProperty("version").GetInt32());
        var lines = run.StdoutLines;
        Assert.Equal("Promoted fraud-demo version 3 to production.", lines[0]);
        Assert.Matches(@"^ALIAS\s+VERSION\s+WEIGHT$", lines[1]);
        Assert.Matches(@"^production\s+3\s+-$", lines[2]);
        Assert.Matches(@"^previous\s+2\s+-$", lines[3]);
    }

    [Fact]
    public async Task Models_promote_with_force_declares_the_breaking_change_and_without_it_does_not()
    {
        await Mlops("models", "promote", "fraud-demo", "3", "--force");
        Assert.True(JsonDocument.Parse(api.Last("/api/v1/models/fraud-demo/promote").Body).RootElement.GetProperty("force").GetBoolean());

        await Mlops("models", "promote", "fraud-demo", "3");
        Assert.False(JsonDocument.Parse(api.Last("/api/v1/models/fraud-demo/promote").Body).RootElement.GetProperty("force").GetBoolean());
    }

    [Fact]
    public async Task Models_promote_of_the_production_version_says_nothing_changed_and_succeeds()
    {
        var run = await Mlops("models", "promote", "fraud-demo", "2");

        Assert.Equal(ExitCodes.Ok, run.ExitCode);
        Assert.Equal("fraud-demo version 2 is already production; nothing changed.", run.StdoutLines[0]);
    }

    [Fact]
    public async Task Models_promote_as_json_prints_the_change()
    {
        var run = await Mlops("models", "promote", "fraud-demo", "3", "--output", "json");

        Assert.Equal(ExitCodes.Ok, run.ExitCode);
        var root = JsonDocument.Parse(run.Stdout).RootElement;
        Assert.True(root.GetProperty("changed").GetBoolean());
        Assert.Equal(3, root.GetProperty("aliases").GetProperty("production").GetProperty("version").GetInt32());
    }

    [Fact]
    public async Task Models_promote_waits_for_the_node_and_a_version_it_refuses_exits_1_with_the_reason()
    {
        var run = await Mlops("models", "promote", "refusing", "3", "--wait", "5");

        Assert.Equal(ExitCodes.Refused, run.ExitCode);
        Assert.Equal("", run.Stdout);
        Assert.Equal("?wait_seconds=5", api.Last("/api/v1/models/refusing/promote").Query);
        Assert.Contains("refused by its replica and production is version 2 again: warm-up run failed (version_refused, HTTP 409)", run.Stderr);
    }

    [Fact]
    public async Task Models_promote_with_wait_exits_0_once_every_replica_serves_and_waits_as_long_as_the_timeout()
    {
        var run = await Mlops("models", "promote", "fraud-demo", "3", "--wait", "--timeout", "60s");

        Assert.Equal(ExitCodes.Ok, run.ExitCode);
        Assert.Equal("?wait_seconds=60", api.Last("/api/v1/models/fraud-demo/promote").Query);
        Assert.Equal("Promoted fraud-demo version 3 to production.", run.StdoutLines[0]);
    }

    [Fact]
    public async Task Models_promote_with_wait_exits_3_when_the_version_does_not_serve_everywhere_in_time()
    {
        var run = await Mlops("models", "promote", "loading", "3", "--wait", "45s");

        Assert.Equal(ExitCodes.Unavailable, run.ExitCode);
        Assert.Equal("?wait_seconds=45", api.Last("/api/v1/models/loading/promote").Query);
        Assert.Contains("version 3 of 'loading' is production but does not serve on every replica after 45 s: " +
                        "Version 3 of 'loading' is production but does not serve yet after 5 s (state loading).", run.Stderr);
    }

    [Fact]
    public async Task Models_promote_with_a_bare_wait_and_the_default_timeout_waits_the_default_100_s()
    {
        await Mlops("models", "promote", "fraud-demo", "3", "--wait");

        Assert.Equal("?wait_seconds=100", api.Last("/api/v1/models/fraud-demo/promote").Query);
    }

    [Fact]
    public async Task Models_promote_that_does_not_serve_within_the_wait_says_so_and_succeeds()
    {
        var run = await Mlops("models", "promote", "loading", "3");

        Assert.Equal(ExitCodes.Ok, run.ExitCode);
        Assert.Equal("?wait_seconds=30", api.Last("/api/v1/models/loading/promote").Query);
        Assert.Equal("Promoted loading version 3 to production. " +
                     "Version 3 of 'loading' is production but does not serve yet after 5 s (state loading).", run.StdoutLines[0]);
    }

    [Theory]
    [InlineData("--wait", "-1")]
    [InlineData("--wait", "301")]
    [InlineData("--wait", "6m")]
    [InlineData("--wait", "soon")]
    public async Task Models_promote_with_a_wait_out_of_range_is_a_usage_error(string option, string value)
    {
        var run = await Mlops("models", "promote", "usage-wait", "3", option, value);

        Assert.Equal(ExitCodes.Usage, run.ExitCode);
        Assert.Contains("--wait must be a duration from 0 to 300 s", run.Stderr);
        Assert.DoesNotContain(api.Requests, r => r.Path.Contains("usage-wait"));
    }

    [Theory]
    [InlineData("fraud-demo.dlq")]
    [InlineData("_fraud")]
    public async Task Models_register_refuses_a_name_the_node_would_refuse_before_sending_anything(string name)
    {
        var onnxPath = Path.Combine(_scratch, "named.onnx");
        await File.WriteAllBytesAsync(onnxPath, [1, 2, 3]);

        var run = await Mlops("models", "register", name, "--file", onnxPath);

        Assert.Equal(ExitCodes.Usage, run.ExitCode);
        Assert.Contains($"model name '{name}' is not valid", run.Stderr);
        Assert.DoesNotContain(api.Requests, r => r.Path.Contains(Uri.EscapeDataString(name)));
    }

    [Fact]
    public async Task Models_canary_posts_version_and_weight_and_prints_the_split()
    {
        var run = await Mlops("models", "canary", "canary-set", "3", "--weight", "0.1");

        Assert.Equal(ExitCodes.Ok, run.ExitCode);
        var body = JsonDocument.Parse(api.Last("/api/v1/models/canary-set/canary").Body).RootElement;
        Assert.Equal(3, body.GetProperty("version").GetInt32());
        Assert.Equal(0.1, body.GetProperty("weight").GetDouble());
        var lines = run.StdoutLines;
        Assert.Equal("Canary of canary-set: version 3 at weight 0.1 (10%).", lines[0]);
        Assert.Matches(@"^production\s+2\s+-$", lines[2]);
        Assert.Matches(@"^canary\s+3\s+0\.1$", lines[3]);
    }

    [Fact]
    public async Task Models_canary_with_weight_zero_clears_the_canary()
    {
        var run = await Mlops("models", "canary", "canary-clear", "3", "-w", "0");

        Assert.Equal(ExitCodes.Ok, run.ExitCode);
        var body = JsonDocument.Parse(api.Last("/api/v1/models/canary-clear/canary").Body).RootElement;
        Assert.Equal(0, body.GetProperty("weight").GetDouble());
        Assert.Equal("Cleared the canary of canary-clear.", run.StdoutLines[0]);
        Assert.DoesNotContain(run.StdoutLines, l => l.StartsWith("canary", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Models_rollback_prints_the_version_now_in_production()
    {
        var run = await Mlops("models", "rollback", "fraud-demo");

        Assert.Equal(ExitCodes.Ok, run.ExitCode);
        Assert.Equal("POST", api.Last("/api/v1/models/fraud-demo/rollback").Method);
        Assert.Equal("Rolled back fraud-demo to version 1.", run.StdoutLines[0]);
        Assert.Matches(@"^production\s+1\s+-$", run.StdoutLines[2]);
    }

    [Fact]
    public async Task Models_undeploy_then_deploy_post_to_their_routes()
    {
        var undeploy = await Mlops("models", "undeploy", "fraud-demo");
        Assert.Equal(ExitCodes.Ok, undeploy.ExitCode);
        Assert.Equal("POST", api.Last("/api/v1/models/fraud-demo/undeploy").Method);
        Assert.Equal("Undeployed fraud-demo.", undeploy.StdoutLines[0]);
        Assert.Matches(@"^undeployed\s+2\s+-$", undeploy.StdoutLines[2]);

        var deploy = await Mlops("models", "deploy", "fraud-demo", "--output", "json");
        Assert.Equal(ExitCodes.Ok, deploy.ExitCode);
        Assert.Equal("POST", api.Last("/api/v1/models/fraud-demo/deploy").Method);
        Assert.Equal(2, JsonDocument.Parse(deploy.Stdout).RootElement.GetProperty("version").GetInt32());
    }

    [Fact]
    public async Task Models_pin_and_unpin_post_to_their_routes_and_say_what_changed()
    {
        var pin = await Mlops("models", "pin", "fraud-demo");
        Assert.Equal(ExitCodes.Ok, pin.ExitCode);
        Assert.Equal("POST", api.Last("/api/v1/models/fraud-demo/pin").Method);
        Assert.Equal("Pinned fraud-demo.", pin.StdoutLines[0]);
        Assert.Contains(pin.StdoutLines, line => System.Text.RegularExpressions.Regex.IsMatch(line, @"^pinned\s+2\s+-$"));

        var unpin = await Mlops("models", "unpin", "fraud-demo");
        Assert.Equal(ExitCodes.Ok, unpin.ExitCode);
        Assert.Equal("POST", api.Last("/api/v1/models/fraud-demo/unpin").Method);
        Assert.Equal("fraud-demo is already unpinned; nothing changed.", unpin.StdoutLines[0]);
    }

    [Fact]
    public async Task Models_scale_without_options_reads_the_scale_and_prints_it()
    {
        var fixedRun = await Mlops("models", "scale", "fraud-demo");
        var perNodeRun = await Mlops("models", "scale", "scale-default");

        Assert.Equal((ExitCodes.Ok, ""), (fixedRun.ExitCode, fixedRun.Stderr));
        var request = api.Last("/api/v1/models/fraud-demo/scale");
        Assert.Equal(("GET", ""), (request.Method, request.Body));
        Assert.Equal(["fraud-demo runs 3 replica(s)."], fixedRun.StdoutLines);
        Assert.Equal(ExitCodes.Ok, perNodeRun.ExitCode);
        Assert.Equal("GET", api.Last("/api/v1/models/scale-default/scale").Method);
        Assert.Equal(["scale-default runs one replica per node."], perNodeRun.StdoutLines);
    }

    [Fact]
    public async Task Models_scale_with_replicas_posts_the_count_and_prints_the_new_scale()
    {
        var run = await Mlops("models", "scale", "scale-set", "--replicas", "5");

        Assert.Equal(ExitCodes.Ok, run.ExitCode);
        var request = api.Last("/api/v1/models/scale-set/scale");
        Assert.Equal("POST", request.Method);
        Assert.StartsWith("application/json", request.ContentType);
        Assert.Equal("""{"replicas":5}""", request.Body);
        Assert.Equal(["Scaled scale-set to 5 replica(s)."], run.StdoutLines);
    }

    [Fact]
    public async Task Models_scale_to_what_already_runs_says_nothing_changed_and_succeeds()
    {
        var run = await Mlops("models", "scale", "steady", "-r", "2");

        Assert.Equal(ExitCodes.Ok, run.ExitCode);
        Assert.Equal("""{"replicas":2}""", api.Last("/api/v1/models/steady/scale").Body);
        Assert.Equal(["steady already runs 2 replica(s); nothing changed."], run.StdoutLines);
    }

    [Fact]
    public async Task Models_scale_with_min_and_max_asks_for_autoscaling_and_status_shows_the_last_decision()
    {
        var run = await Mlops("models", "scale", "scale-auto", "--min", "1", "--max", "3");

        Assert.Equal(ExitCodes.Ok, run.ExitCode);
        Assert.Equal("""{"replicas":null,"min":1,"max":3}""", api.Last("/api/v1/models/scale-auto/scale").Body);
        Assert.Equal(["Scaled scale-auto to 1 replica(s), autoscaled from 1 to 3."], run.StdoutLines);

        var shown = await Mlops("models", "scale", "autoscaled");
        Assert.Equal(ExitCodes.Ok, shown.ExitCode);
        Assert.Equal(["autoscaled runs 2 replica(s), autoscaled from 1 to 3.",
            "Last autoscaling: 1 -> 2 at 2026-12-02 12:00:00Z: backlog 5000 per replica stayed above 1000 for 30 s."], shown.StdoutLines);
    }

    [Theory]
    [InlineData("--min", "1")]
    [InlineData("--max", "3")]
    public async Task Models_scale_with_only_one_end_of_the_range_is_a_usage_error(string option, string value)
    {
        var run = await Mlops("models", "scale", "usage-scale-range", option, value);

        Assert.Equal(ExitCodes.Usage, run.ExitCode);
        Assert.Contains("give --min and --max together", run.Stderr);
        Assert.DoesNotContain(api.Requests, r => r.Path.Contains("usage-scale-range"));
    }

    [Fact]
    public async Task Models_scale_per_node_posts_null_replicas_and_prints_one_per_node()
    {
        var run = await Mlops("models", "scale", "scale-per-node", "--per-node");

        Assert.Equal(ExitCodes.Ok, run.ExitCode);
        var request = api.Last("/api/v1/models/scale-per-node/scale");
        Assert.Equal("POST", request.Method);
        Assert.Equal("""{"replicas":null}""", request.Body);
        Assert.Equal(["Scaled scale-per-node to one replica per node."], run.StdoutLines);
    }

    [Fact]
    public async Task Models_scale_as_json_prints_the_servers_answer()
    {
        var read = await Mlops("models", "scale", "fraud-demo", "--output", "json");
        var set = await Mlops("models", "scale", "scale-json", "--replicas", "4", "-o", "json");

        Assert.Equal(ExitCodes.Ok, read.ExitCode);
        Assert.Equal("""{"model":"fraud-demo","mode":"fixed","replicas":3}""", read.Stdout.Trim());
        Assert.Equal(ExitCodes.Ok, set.ExitCode);
        Assert.Equal("""{"model":"scale-json","mode":"fixed","replicas":4,"changed":true}""", set.Stdout.Trim());
    }

    [Theory]
    [InlineData("0")]
    [InlineData("65")]
    [InlineData("-1")]
    [InlineData("three")]
    public async Task Models_scale_with_a_count_out_of_range_is_a_usage_error_before_any_request(string replicas)
    {
        var run = await Mlops("models", "scale", "usage-scale", "--replicas", replicas);

        Assert.Equal(ExitCodes.Usage, run.ExitCode);
        Assert.Equal("", run.Stdout);
        Assert.StartsWith("mlops: ", run.Stderr);
        Assert.Contains($"--replicas must be an integer from 1 to 64 (got '{replicas}')", run.Stderr);
        Assert.DoesNotContain(api.Requests, r => r.Path.Contains("usage-scale"));
    }

    [Theory]
    [InlineData("2")]
    [InlineData("0")]
    public async Task Models_scale_with_both_replicas_and_per_node_is_a_usage_error_before_any_request(string replicas)
    {
        var run = await Mlops("models", "scale", "usage-scale-both", "--replicas", replicas, "--per-node");

        Assert.Equal(ExitCodes.Usage, run.ExitCode);
        Assert.Equal("", run.Stdout);
        Assert.Contains("--per-node goes alone", run.Stderr);
        Assert.StartsWith("mlops: ", run.Stderr);
        Assert.DoesNotContain(api.Requests, r => r.Path.Contains("usage-scale-both"));
    }

    [Fact]
    public async Task Models_scale_of_an_unknown_model_is_refused_with_the_servers_message()
    {
        var run = await Mlops("models", "scale", "ghost", "--replicas", "2");

        Assert.Equal(ExitCodes.Refused, run.ExitCode);
        Assert.Equal("", run.Stdout);
        Assert.Contains("Model 'ghost' is not in the registry. (model_not_found, HTTP 404)", run.Stderr);
    }

    [Fact]
    public async Task Audit_prints_the_changes_newest_first_and_passes_the_limit()
    {
        var run = await Mlops("audit", "--limit", "5");

        Assert.Equal(ExitCodes.Ok, run.ExitCode);
        Assert.Equal("?limit=5", api.Last("/api/v1/audit").Query);
        var lines = run.StdoutLines;
        Assert.Matches(@"^TIME\s+ACTOR\s+ACTION\s+MODEL\s+VERSION\s+RESULT\s+DETAIL$", lines[0]);
        Assert.Matches(@"^2026-11-24 09:50:00Z\s+MLOPS_ADMIN_KEY\s+promote\s+fraud-demo\s+2\s+done\s+production=2, previous=1$", lines[1]);
        Assert.Matches(@"^2026-11-24 09:49:00Z\s+anonymous\s+rollback\s+fresh\s+-\s+conflict\s+-$", lines[2]);
    }

    [Fact]
    public async Task Audit_as_json_without_a_limit_lets_the_node_choose()
    {
        var run = await Mlops("audit", "-o", "json");

        Assert.Equal(ExitCodes.Ok, run.ExitCode);
        Assert.Equal("", api.Last("/api/v1/audit").Query);
        Assert.Equal(FakeAdminApi.AuditJson.Trim(), run.Stdout.Trim());
    }

    public void Dispose() => Directory.Delete(_scratch, recursive: true);
}
