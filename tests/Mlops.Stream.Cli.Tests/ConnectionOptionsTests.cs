namespace Mlops.Stream.Cli.Tests;

/// <summary>Where the CLI sends requests and which key it presents: options win over the environment.</summary>
public sealed class ConnectionOptionsTests(FakeAdminApi api) : IClassFixture<FakeAdminApi>
{
    private const string OptionKey = "key-from-option-0123456789";
    private const string EnvironmentKey = "key-from-environment-0123456789";

    [Fact]
    public async Task The_key_given_with_key_is_sent_as_a_bearer_token()
    {
        var run = await CliRun.RunAsync(null, "models", "status", "fraud-demo", "--url", api.Url, "--key", OptionKey);

        Assert.Equal(ExitCodes.Ok, run.ExitCode);
        Assert.Equal($"Bearer {OptionKey}", api.Last("/api/v1/models/fraud-demo").Authorization);
    }

    [Fact]
    public async Task The_key_in_MLOPS_ADMIN_KEY_is_sent_as_a_bearer_token()
    {
        var environment = new Dictionary<string, string> { ["MLOPS_ADMIN_KEY"] = EnvironmentKey };

        var run = await CliRun.RunAsync(environment, "models", "promote", "fraud-demo", "3", "--url", api.Url);

        Assert.Equal(ExitCodes.Ok, run.ExitCode);
        Assert.Equal($"Bearer {EnvironmentKey}", api.Last("/api/v1/models/fraud-demo/promote").Authorization);
    }

    [Fact]
    public async Task The_key_option_wins_over_MLOPS_ADMIN_KEY()
    {
        var environment = new Dictionary<string, string> { ["MLOPS_ADMIN_KEY"] = EnvironmentKey };

        var run = await CliRun.RunAsync(environment, "audit", "--url", api.Url, "--key", OptionKey);

        Assert.Equal(ExitCodes.Ok, run.ExitCode);
        Assert.Equal($"Bearer {OptionKey}", api.Last("/api/v1/audit").Authorization);
    }

    [Fact]
    public async Task Without_a_key_no_authorization_header_is_sent()
    {
        var run = await CliRun.RunAsync(null, "models", "list", "--url", api.Url);

        Assert.Equal(ExitCodes.Ok, run.ExitCode);
        Assert.Null(api.Last("/api/v1/models").Authorization);
    }

    [Fact]
    public async Task MLOPS_URL_names_the_node_when_url_is_not_given_and_global_options_may_precede_the_command()
    {
        var environment = new Dictionary<string, string> { ["MLOPS_URL"] = api.Url };

        var fromEnvironment = await CliRun.RunAsync(environment, "models", "list");
        var optionsFirst = await CliRun.RunAsync(null, "--url", api.Url, "-o", "json", "models", "list");

        Assert.Equal(ExitCodes.Ok, fromEnvironment.ExitCode);
        Assert.StartsWith("NAME", fromEnvironment.Stdout);
        Assert.Equal(ExitCodes.Ok, optionsFirst.ExitCode);
        Assert.StartsWith("[", optionsFirst.Stdout);
    }

    [Fact]
    public async Task A_url_with_a_path_prefix_keeps_it()
    {
        // A node behind a gateway at http://host/prefix/ is reached at /prefix/api/v1/...; the fake
        // has no such prefix, so the request lands on an unknown route and is refused with 404.
        var run = await CliRun.RunAsync(null, "models", "list", "--url", api.Url + "/prefix");

        Assert.Equal(ExitCodes.Refused, run.ExitCode);
        Assert.Equal("/prefix/api/v1/models", api.Requests.Last().Path);
        Assert.StartsWith("mlops: ", run.Stderr);
    }
}
