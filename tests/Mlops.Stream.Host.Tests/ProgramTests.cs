using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Text.RegularExpressions;
using Mlops.Stream.Http;

namespace Mlops.Stream.Host.Tests;

/// <summary>
/// The real program, as <c>dotnet run --project src/Mlops.Stream.Host</c> starts it: its own process,
/// Program.cs and appsettings.json, stopped by SIGTERM as a container runtime or systemd would.
/// </summary>
public sealed partial class ProgramTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task The_program_serves_health_and_system_info_and_exits_cleanly_on_sigterm()
    {
        // SIGTERM is how the program is stopped in production; Windows has no equivalent to send.
        if (OperatingSystem.IsWindows()) return;

        using var process = StartHost("--Http:Url=http://127.0.0.1:0", "--Akka:Port=0", "--Kafka:BootstrapServers=");
        var output = new System.Collections.Concurrent.ConcurrentQueue<string>();
        var listening = new TaskCompletionSource<Uri>(TaskCreationOptions.RunContinuationsAsynchronously);
        process.OutputDataReceived += (_, e) => Collect(e.Data);
        process.ErrorDataReceived += (_, e) => Collect(e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        try
        {
            var address = await listening.Task.WaitAsync(Timeout);
            using var http = new HttpClient { BaseAddress = address, Timeout = Timeout };

            Assert.Equal(HttpStatusCode.OK, (await http.GetAsync("/healthz/live")).StatusCode);
            var info = await http.GetFromJsonAsync<SystemInfo>("/api/v1/system");
            Assert.Equal("embedded", info!.KafkaMode);
            Assert.Contains(output, line => line.Contains("EMBEDDED in-memory Kafka", StringComparison.Ordinal) &&
                                            line.Contains(info.BootstrapServers, StringComparison.Ordinal));

            using var kill = Process.Start("kill", ["-TERM", process.Id.ToString()]);
            await process.WaitForExitAsync().WaitAsync(Timeout);
            Assert.True(process.ExitCode == 0, $"exit code {process.ExitCode}; output:{Environment.NewLine}{string.Join(Environment.NewLine, output)}");
            Assert.Contains(output, line => line.Contains("stopped; its data is gone", StringComparison.Ordinal));
        }
        finally
        {
            if (!process.HasExited) process.Kill(entireProcessTree: true);
        }

        void Collect(string? line)
        {
            if (line is null) return;
            output.Enqueue(line);
            var match = ListeningLine().Match(line);
            if (match.Success) listening.TrySetResult(new Uri(match.Groups[1].Value));
        }
    }

    private static Process StartHost(params string[] arguments)
    {
        // The host's build output is copied next to this test assembly, appsettings.json included.
        var start = new ProcessStartInfo(Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") ?? "dotnet")
        {
            WorkingDirectory = AppContext.BaseDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "Mlops.Stream.Host.dll"));
        foreach (var argument in arguments) start.ArgumentList.Add(argument);
        // Plain console lines (no colours) so the listening address can be read back.
        start.Environment["DOTNET_SYSTEM_CONSOLE_ALLOW_ANSI_COLOR_REDIRECTION"] = "false";
        start.Environment["Logging__Console__FormatterName"] = "simple";
        return Process.Start(start) ?? throw new InvalidOperationException("Could not start the host process.");
    }

    [GeneratedRegex(@"Now listening on: (http://\S+)")]
    private static partial Regex ListeningLine();
}
