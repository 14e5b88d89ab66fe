using System.Diagnostics;

namespace Mlops.Stream.Host.Tests;

/// <summary>
/// The alert rules and the scrape configuration of <c>deploy/prometheus</c> are what Prometheus
/// accepts: checked by Prometheus's own <c>promtool</c> (Debian's <c>prometheus</c> package), which
/// <c>.ci/run</c> installs and then requires (<c>MLOPS_REQUIRE_PROMTOOL=1</c>). On a machine without
/// it, and without that variable, there is nothing to run it with and the test says so in its output.
/// </summary>
public sealed class DeployPromtoolTests(Xunit.Abstractions.ITestOutputHelper output)
{
    [Fact]
    public async Task The_alert_rules_and_the_scrape_config_pass_promtool()
    {
        if (FindPromtool() is not { } promtool)
        {
            Assert.False(Environment.GetEnvironmentVariable("MLOPS_REQUIRE_PROMTOOL") == "1",
                "promtool is required (MLOPS_REQUIRE_PROMTOOL=1) but not on PATH: install Debian's prometheus package");
            output.WriteLine("promtool is not installed: the rules were not checked (apt-get install prometheus)");
            return;
        }

        var prometheus = Path.Combine(DeployDashboardsTests.RepositoryRoot(), "deploy", "prometheus");
        var rules = await RunAsync(promtool, "check", "rules", Path.Combine(prometheus, "alerts.yml"));
        Assert.True(rules.ExitCode == 0, rules.Output);
        Assert.Contains("SUCCESS", rules.Output);

        // The config names the rules where the container mounts them; check it with the repository's file instead.
        using var scratch = new TempDirectory("mlops-promtool-");
        var config = Path.Combine(scratch.Path, "prometheus.yml");
        await File.WriteAllTextAsync(config, (await File.ReadAllTextAsync(Path.Combine(prometheus, "prometheus.yml")))
            .Replace("/etc/prometheus/alerts.yml", Path.Combine(prometheus, "alerts.yml"), StringComparison.Ordinal));
        var checkedConfig = await RunAsync(promtool, "check", "config", config);
        Assert.True(checkedConfig.ExitCode == 0, checkedConfig.Output);
        Assert.Contains("SUCCESS", checkedConfig.Output);
        output.WriteLine(rules.Output + checkedConfig.Output);
    }

    private static string? FindPromtool() =>
        (Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator)
        .Select(dir => Path.Combine(dir, "promtool"))
        .FirstOrDefault(File.Exists);

    private static async Task<(int ExitCode, string Output)> RunAsync(string file, params string[] arguments)
    {
        var start = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var argument in arguments) start.ArgumentList.Add(argument);
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync().WaitAsync(TimeSpan.FromMinutes(1));
        return (process.ExitCode, await stdout + await stderr);
    }
}
