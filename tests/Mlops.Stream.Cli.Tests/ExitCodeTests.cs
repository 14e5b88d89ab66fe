using System.Net;
using System.Net.Sockets;

namespace Mlops.Stream.Cli.Tests;

/// <summary>Failures: one line on stderr, nothing on stdout, and the exit code the help text promises.</summary>
public sealed class ExitCodeTests(FakeAdminApi api) : IClassFixture<FakeAdminApi>
{
    private Task<CliRun> Mlops(params string[] args) => CliRun.RunAsync(null, [.. args, "--url", api.Url]);

    private static void AssertOneErrorLine(CliRun run, string expected)
    {
        Assert.Equal("", run.Stdout);
        Assert.Equal($"mlops: {expected}", run.Stderr.TrimEnd('\n'));
    }

    [Fact]
    public async Task An_unknown_model_is_refused_with_exit_1_and_the_servers_message_and_code()
    {
        var run = await Mlops("models", "status", "ghost");

        Assert.Equal(ExitCodes.Refused, run.ExitCode);
        AssertOneErrorLine(run, "Model 'ghost' is not in the registry. (model_not_found, HTTP 404)");
    }

    [Fact]
    public async Task A_conflict_is_refused_with_exit_1_also_in_json_mode()
    {
        var run = await Mlops("models", "rollback", "fresh", "--output", "json");

        Assert.Equal(ExitCodes.Refused, run.ExitCode);
        AssertOneErrorLine(run, "Model 'fresh' has no previous version to roll back to. (conflict, HTTP 409)");
    }

    [Fact]
    public async Task A_wrong_key_is_refused_with_exit_1()
    {
        var run = await Mlops("models", "list", "--key", FakeAdminApi.WrongKey);

        Assert.Equal(ExitCodes.Refused, run.ExitCode);
        AssertOneErrorLine(run, "the bearer key matches no configured key (invalid_key, HTTP 401)");
    }

    [Fact]
    public async Task A_server_error_exits_3()
    {
        var run = await Mlops("models", "status", "exploding");

        Assert.Equal(ExitCodes.Unavailable, run.ExitCode);
        AssertOneErrorLine(run, "unexpected result (internal, HTTP 500)");
    }

    [Fact]
    public async Task A_node_that_does_not_answer_within_the_timeout_exits_3()
    {
        var run = await Mlops("models", "status", "slow", "--timeout", "200ms");

        Assert.Equal(ExitCodes.Unavailable, run.ExitCode);
        AssertOneErrorLine(run, $"no answer from {api.Url} within 0.2 s (raise --timeout for slow calls)");
    }

    [Fact]
    public async Task An_unreachable_url_exits_3_naming_the_address()
    {
        // A port that was just free: nothing listens there, so the connection is refused at once.
        using var probe = new TcpListener(IPAddress.Loopback, 0);
        probe.Start();
        var port = ((IPEndPoint)probe.LocalEndpoint).Port;
        probe.Stop();
        var url = $"http://127.0.0.1:{port}";

        var run = await CliRun.RunAsync(null, "models", "list", "--url", url);

        Assert.Equal(ExitCodes.Unavailable, run.ExitCode);
        Assert.Equal("", run.Stdout);
        Assert.StartsWith($"mlops: cannot reach {url}: ", run.Stderr);
        Assert.Single(run.Stderr.TrimEnd('\n').Split('\n'));
    }

    [Theory]
    [InlineData("models", "promote", "fraud-demo", "three")]
    [InlineData("models", "promote", "fraud-demo", "0")]
    [InlineData("models", "canary", "fraud-demo", "3")]
    [InlineData("models", "canary", "fraud-demo", "3", "--weight", "1.5")]
    [InlineData("models", "register", "fraud-demo", "--file", "/no/such/model.onnx")]
    [InlineData("models", "list", "--output", "yaml")]
    [InlineData("models", "canary", "fraud-demo", "3", "--weight", "ten")]
    [InlineData("models", "list", "--timeout", "0")]
    [InlineData("models", "list", "--timeout", "soon")]
    [InlineData("models", "list", "--timeout", "5h")]
    [InlineData("audit", "--limit", "5000")]
    [InlineData("models", "frobnicate")]
    [InlineData("audit", "--limit", "0")]
    [InlineData("models")]
    public async Task A_bad_command_line_exits_2_with_one_line_and_sends_nothing(params string[] args)
    {
        var before = api.Requests.Count;

        var run = await Mlops(args);

        Assert.Equal(ExitCodes.Usage, run.ExitCode);
        Assert.Equal("", run.Stdout);
        Assert.StartsWith("mlops: ", run.Stderr);
        Assert.Contains("--help", run.Stderr);
        Assert.Single(run.Stderr.TrimEnd('\n').Split('\n'));
        Assert.Equal(before, api.Requests.Count);
    }

    [Fact]
    public async Task A_url_that_is_not_http_exits_2()
    {
        var run = await CliRun.RunAsync(null, "models", "list", "--url", "ftp://example.com");

        Assert.Equal(ExitCodes.Usage, run.ExitCode);
        AssertOneErrorLine(run, "--url 'ftp://example.com' is not an http:// or https:// address");
    }

    [Fact]
    public async Task Help_documents_the_exit_codes_and_the_environment_and_exits_0()
    {
        var run = await CliRun.RunAsync(null, "--help");

        Assert.Equal(ExitCodes.Ok, run.ExitCode);
        Assert.Contains("Exit codes:", run.Stdout);
        foreach (var code in new[] { "0  done", "1  the node refused", "2  usage error", "3  cannot reach the node" })
            Assert.Contains(code, run.Stdout);
        Assert.Contains("MLOPS_URL", run.Stdout);
        Assert.Contains("MLOPS_ADMIN_KEY", run.Stdout);
        Assert.Contains("models", run.Stdout);
        Assert.Contains("audit", run.Stdout);
    }
}
