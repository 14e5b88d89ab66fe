using System.Net;
using System.Net.Http.Json;
using Mlops.Stream.Host.Tests.Infrastructure;
using Mlops.Stream.Http;

namespace Mlops.Stream.Host.Tests;

/// <summary>
/// The real program, as <c>dotnet run --project src/Mlops.Stream.Host</c> starts it: its own process,
/// Program.cs and appsettings.json, stopped by SIGTERM as a container runtime or systemd would.
/// </summary>
public sealed class ProgramTests
{
    [Fact]
    public async Task The_program_serves_health_and_system_info_and_exits_cleanly_on_sigterm()
    {
        // SIGTERM is how the program is stopped in production; Windows has no equivalent to send.
        if (OperatingSystem.IsWindows()) return;

        using var host = HostProcess.Start(["--Http:Url=http://127.0.0.1:0", "--Grpc:Url=http://127.0.0.1:0", "--Akka:Port=0", "--Kafka:BootstrapServers="]);
        var address = await host.Listening.WaitAsync(HostProcess.Timeout);
        using var http = new HttpClient { BaseAddress = address, Timeout = HostProcess.Timeout };

        Assert.Equal(HttpStatusCode.OK, (await http.GetAsync("/healthz/live")).StatusCode);
        var info = await http.GetFromJsonAsync<SystemInfo>("/api/v1/system");
        Assert.Equal("embedded", info!.KafkaMode);
        Assert.Contains(host.Stdout, line => line.Contains("EMBEDDED in-memory Kafka", StringComparison.Ordinal) &&
                                             line.Contains(info.BootstrapServers, StringComparison.Ordinal));

        var exitCode = await host.TerminateAsync();
        Assert.True(exitCode == 0, $"exit code {exitCode}; output:{Environment.NewLine}{host.Output}");
        Assert.Contains(host.Stdout, line => line.Contains("stopped; its data is gone", StringComparison.Ordinal));
    }
}
