using System.Collections.Concurrent;
using System.Diagnostics;
using System.Text.RegularExpressions;

namespace Mlops.Stream.Host.Tests.Infrastructure;

/// <summary>
/// The real program in its own process, as <c>dotnet run --project src/Mlops.Stream.Host</c> starts it:
/// the built Mlops.Stream.Host.dll (copied next to this test assembly with its appsettings.json),
/// Program.cs, real exit codes. Collects stdout and stderr line by line. Dispose kills the process by
/// its id if it still runs, so a failing test never leaves a node behind.
/// </summary>
public sealed partial class HostProcess : IDisposable
{
    public static readonly TimeSpan Timeout = TimeSpan.FromMinutes(2);

    private readonly Process _process;
    private readonly ConcurrentQueue<string> _stdout = new();
    private readonly ConcurrentQueue<string> _stderr = new();
    private readonly TaskCompletionSource<Uri> _listening = new(TaskCreationOptions.RunContinuationsAsynchronously);

    private HostProcess(Process process)
    {
        _process = process;
        process.OutputDataReceived += (_, e) =>
        {
            if (e.Data is null) return;
            _stdout.Enqueue(e.Data);
            if (ListeningLine().Match(e.Data) is { Success: true } match) _listening.TrySetResult(new Uri(match.Groups[1].Value));
        };
        process.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is not null) _stderr.Enqueue(e.Data);
        };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
    }

    public int Id => _process.Id;

    public IReadOnlyList<string> Stdout => [.. _stdout];

    public IReadOnlyList<string> Stderr => [.. _stderr];

    /// <summary>Everything the process wrote so far, for assertion messages.</summary>
    public string Output => string.Join(Environment.NewLine, Stdout.Concat(Stderr));

    /// <summary>The HTTP address from the server's "Now listening on" line; completes once it has been logged.</summary>
    public Task<Uri> Listening => _listening.Task;

    /// <summary>
    /// Starts the host with <paramref name="arguments"/>. Plain console lines unless <paramref name="environment"/>
    /// says otherwise (it may set or remove variables, <c>null</c> removing).
    /// </summary>
    public static HostProcess Start(IEnumerable<string> arguments, IReadOnlyDictionary<string, string?>? environment = null)
    {
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
        foreach (var (name, value) in environment ?? new Dictionary<string, string?>())
        {
            if (value is null) start.Environment.Remove(name);
            else start.Environment[name] = value;
        }
        return new HostProcess(Process.Start(start) ?? throw new InvalidOperationException("Could not start the host process."));
    }

    /// <summary>
    /// Waits until the process exits and returns its exit code, or fails the test at once if it starts
    /// serving instead (a node that should have refused to start), or after <see cref="Timeout"/>.
    /// </summary>
    public async Task<int> ExitCodeWithoutServingAsync()
    {
        var exited = _process.WaitForExitAsync();
        var first = await Task.WhenAny(exited, Listening).WaitAsync(Timeout);
        if (first != exited)
        {
            Assert.Fail($"The node started serving on {await Listening} instead of stopping; output:{Environment.NewLine}{Output}");
        }
        await exited;
        return _process.ExitCode;
    }

    /// <summary>Asks the process to stop as a container runtime or systemd would (SIGTERM) and returns its exit code.</summary>
    public async Task<int> TerminateAsync()
    {
        using (var kill = Process.Start("kill", ["-TERM", _process.Id.ToString()]))
        {
            await kill.WaitForExitAsync();
        }
        await _process.WaitForExitAsync().WaitAsync(Timeout);
        return _process.ExitCode;
    }

    /// <summary>Kills the process at once (SIGKILL, as <c>kill -9</c>): no shutdown, no goodbye to the cluster or Kafka.</summary>
    public void Kill()
    {
        _process.Kill(entireProcessTree: false);
        _process.WaitForExit(Timeout);
    }

    public void Dispose()
    {
        try
        {
            if (!_process.HasExited) _process.Kill(entireProcessTree: true);
        }
        finally
        {
            _process.Dispose();
        }
    }

    // Both console formats: the simple one, and JSON where the address ends at a quote.
    [GeneratedRegex(@"Now listening on: (http://[^\s""]+)")]
    private static partial Regex ListeningLine();
}
