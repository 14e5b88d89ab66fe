using System.Text.Json;

namespace Mlops.Stream.Cli.Tests;

/// <summary>
/// <c>mlops load</c> against the fake admin API, whose predictions follow its produced requests by
/// <see cref="FakeAdminApi.PredictionDelay"/>: the report, the requests it builds, the refusals.
/// </summary>
public sealed class LoadCommandTests(FakeAdminApi api) : IClassFixture<FakeAdminApi>
{
    private Task<CliRun> Mlops(params string[] args) => CliRun.RunAsync(null, [.. args, "--url", api.Url]);

    [Fact]
    public async Task Load_sends_rate_times_duration_requests_matches_every_prediction_and_prints_the_report()
    {
        var run = await Mlops("load", "fraud-demo", "--rate", "50", "--duration", "400ms");

        Assert.Equal(ExitCodes.Ok, run.ExitCode);
        Assert.Equal("", run.Stderr);
        var lines = run.StdoutLines;
        Assert.Equal("Load on fraud-demo: 50/s for 0.4 s, drift 0, seed 42; input features from the reference profile of version 2.", lines[0]);
        Assert.Matches(@"^sent\s+20 \([\d.]+/s achieved\)$", lines[1]);
        Assert.Matches(@"^failed\s+0$", lines[2]);
        Assert.Matches(@"^predicted\s+20$", lines[3]);
        Assert.Matches(@"^missing\s+0$", lines[4]);
        Assert.Matches(@"^duplicates\s+0$", lines[5]);
        Assert.Matches(@"^LATENCY\s+P50\s+P90\s+P99\s+MAX$", lines[6]);
        // Both record timestamps come from the fake, 3 ms apart: every Kafka percentile is exactly that.
        Assert.Matches(@"^kafka \(request record → prediction record\)\s+3\.00 ms\s+3\.00 ms\s+3\.00 ms\s+3\.00 ms$", lines[7]);
        Assert.Matches(@"^client \(intended send → prediction received\)(\s+[\d.]+ ms){4}$", lines[8]);
    }

    [Fact]
    public async Task Load_as_json_prints_one_object_with_the_figures()
    {
        var run = await Mlops("load", "fraud-demo", "--rate", "40", "--duration", "0.25", "--seed", "7", "-o", "json");

        Assert.Equal(ExitCodes.Ok, run.ExitCode);
        var report = JsonDocument.Parse(run.Stdout).RootElement;
        Assert.Equal(10, report.GetProperty("sent").GetInt64());
        Assert.Equal(10, report.GetProperty("predicted").GetInt64());
        Assert.Equal(0, report.GetProperty("missing").GetInt64());
        Assert.Equal(0, report.GetProperty("failed").GetInt64());
        Assert.Equal(7, report.GetProperty("seed").GetInt32());
        Assert.True(report.GetProperty("achieved_rate").GetDouble() > 0);
        Assert.Equal(3.0, report.GetProperty("kafka_latency_ms").GetProperty("p99").GetDouble());
        Assert.Equal(10, report.GetProperty("client_latency_ms").GetProperty("count").GetInt64());
    }

    [Fact]
    public async Task Load_builds_one_row_requests_from_the_reference_histograms_and_drift_shifts_them_by_standard_deviations()
    {
        var plain = Rows(await RunAndCapture("--drift", "0"));
        var drifted = Rows(await RunAndCapture("--drift", "2"));

        // Feature b: one bin [10, 20), std dev 3. Feature c: its bin [-1, 0) is empty, so values lie in [0, 1).
        Assert.All(plain, row => Assert.InRange(row[1], 10, 20));
        Assert.All(plain, row => Assert.InRange(row[2], 0, 1));
        Assert.All(drifted, row => Assert.InRange(row[1], 16, 26));
        Assert.All(drifted, row => Assert.InRange(row[0], 1, 3));
    }

    [Fact]
    public async Task Load_with_the_same_seed_sends_the_same_values()
    {
        Assert.Equal(Rows(await RunAndCapture("--seed", "3")), Rows(await RunAndCapture("--seed", "3")));
    }

    [Fact]
    public async Task Load_of_an_unknown_model_exits_1_and_sends_nothing()
    {
        var run = await Mlops("load", "ghost", "--rate", "10", "--duration", "1s");

        Assert.Equal(ExitCodes.Refused, run.ExitCode);
        Assert.Equal("mlops: Model 'ghost' is not in the registry. (model_not_found, HTTP 404)", run.Stderr.TrimEnd('\n'));
        Assert.DoesNotContain(api.Requests, r => r.Path == "/api/v1/models/ghost/requests");
    }

    [Fact]
    public async Task Load_of_a_model_without_known_inputs_exits_1()
    {
        var run = await Mlops("load", "no-inputs", "--rate", "10", "--duration", "1s");

        Assert.Equal(ExitCodes.Refused, run.ExitCode);
        Assert.StartsWith("mlops: model 'no-inputs' has no known inputs yet", run.Stderr);
    }

    [Fact]
    public async Task Load_whose_every_batch_is_refused_exits_with_the_nodes_reason()
    {
        var run = await Mlops("load", "refusing", "--rate", "20", "--duration", "100ms", "--grace", "1s");

        Assert.Equal(ExitCodes.Unavailable, run.ExitCode);
        Assert.Equal("", run.Stdout);
        Assert.Equal("mlops: no request was written: Kafka did not answer a metadata request within 10 s (kafka_unavailable, HTTP 503)", run.Stderr.TrimEnd('\n'));
    }

    [Theory]
    [InlineData("--rate", "0", "--duration", "1s")]
    [InlineData("--rate", "-5", "--duration", "1s")]
    [InlineData("--rate", "fast", "--duration", "1s")]
    [InlineData("--rate", "20000", "--duration", "1s")]
    [InlineData("--rate", "10", "--duration", "0s")]
    [InlineData("--rate", "10", "--duration", "soon")]
    [InlineData("--rate", "10", "--duration", "2h")]
    [InlineData("--rate", "10")]
    [InlineData("--rate", "0.5", "--duration", "1s")]
    [InlineData("--rate", "10", "--duration", "1s", "--drift", "many")]
    public async Task Load_with_a_bad_rate_duration_or_drift_is_a_usage_error_and_sends_nothing(params string[] options)
    {
        var before = api.Requests.Count;

        var run = await Mlops(["load", "fraud-demo", .. options]);

        Assert.Equal(ExitCodes.Usage, run.ExitCode);
        Assert.Equal("", run.Stdout);
        Assert.Single(run.Stderr.TrimEnd('\n').Split('\n'));
        Assert.Equal(before, api.Requests.Count);
    }

    /// <summary>Runs a short load and returns the bodies of the produce calls it made.</summary>
    private async Task<IReadOnlyList<string>> RunAndCapture(params string[] options)
    {
        var before = api.Requests.Count;
        var run = await Mlops(["load", "fraud-demo", "--rate", "100", "--duration", "100ms", .. options]);
        Assert.Equal(ExitCodes.Ok, run.ExitCode);
        return [.. api.Requests.Skip(before).Where(r => r.Path == "/api/v1/models/fraud-demo/requests").Select(r => r.Body)];
    }

    /// <summary>
    /// The feature rows of every request in request order (the number that ends its id: batches may be
    /// posted concurrently and arrive in any order), checking each has the model's input name, type and one-row shape.
    /// </summary>
    private static List<double[]> Rows(IReadOnlyList<string> bodies)
    {
        var rows = new List<(long Index, double[] Row)>();
        foreach (var request in bodies.SelectMany(b => JsonDocument.Parse(b).RootElement.EnumerateArray()))
        {
            var id = request.GetProperty("id").GetString()!;
            Assert.Matches("^load-[0-9a-f]{8}-[0-9]+$", id);
            var input = Assert.Single(request.GetProperty("inputs").EnumerateArray());
            Assert.Equal("features", input.GetProperty("name").GetString());
            Assert.Equal("FP32", input.GetProperty("datatype").GetString());
            Assert.Equal([1L, 3L], input.GetProperty("shape").EnumerateArray().Select(d => d.GetInt64()));
            rows.Add((long.Parse(id[(id.LastIndexOf('-') + 1)..], System.Globalization.CultureInfo.InvariantCulture),
                [.. input.GetProperty("data").EnumerateArray().Select(v => v.GetDouble())]));
        }
        Assert.Equal(10, rows.Count);
        return [.. rows.OrderBy(r => r.Index).Select(r => r.Row)];
    }
}
