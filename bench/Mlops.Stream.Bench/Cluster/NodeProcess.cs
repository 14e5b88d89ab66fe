using System.Collections.Concurrent;
using System.Diagnostics;
using System.Text.RegularExpressions;

namespace Mlops.Stream.Bench.Cluster;

/// <summary>
/// One node as its own process: <c>dotnet Mlops.Stream.Host.dll &lt;args&gt;</c>, the host dll and its
/// appsettings.json being copied next to the bench by the project reference. The started process is
/// the host itself (no <c>dotnet run</c> wrapper), so <see cref="Kill"/> is a real <c>kill -9</c> of the node.
/// </summary>
public sealed partial class NodeProcess : IDisposable
{
    private const int KeptLines = 200;

    private readonly Process _process;
    private readonly ConcurrentQueue<string> _output = new();
    private readonly TaskCompletionSource<Uri> _listening = new(TaskCreationOptions.RunContinuationsAsynchronously);

    private NodeProcess(Process process)
    {
        _process = process;
        process.OutputDataReceived += (_, e) => Keep(e.Data, readListening: true);
        process.ErrorDataReceived += (_, e) => Keep(e.Data, readListening: false);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
    }

    public int Id => _process.Id;

    /// <summary>CPU time (user and system, all threads) the process has used so far.</summary>
    public TimeSpan CpuTime
    {
        get
        {
            _process.Refresh();
            return _process.TotalProcessorTime;
        }
    }

    /// <summary>The HTTP address from the node's "Now listening on" line.</summary>
    public Task<Uri> Listening => _listening.Task;

    /// <summary>The node's resident memory now (VmRSS).</summary>
    public long Resident => ResidentBytes(Id);

    /// <summary>VmRSS of a process, from <c>/proc/&lt;pid&gt;/status</c> (Linux).</summary>
    public static long ResidentBytes(int pid)
    {
        foreach (var line in File.ReadLines($"/proc/{pid}/status"))
            if (line.StartsWith("VmRSS:", StringComparison.Ordinal))
                return long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], System.Globalization.CultureInfo.InvariantCulture) * 1024;
        return 0;
    }

    /// <summary>The node's last output lines, to explain a failure.</summary>
    public string Tail => string.Join(Environment.NewLine, _output);

    public static NodeProcess Start(IEnumerable<string> arguments)
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
        // Plain console lines (no colours, no JSON) so the listening address can be read back.
        start.Environment["DOTNET_SYSTEM_CONSOLE_ALLOW_ANSI_COLOR_REDIRECTION"] = "false";
        start.Environment["Logging__Console__FormatterName"] = "simple";
        return new NodeProcess(Process.Start(start) ?? throw new InvalidOperationException("could not start Mlops.Stream.Host.dll"));
    }

    /// <summary>SIGKILL, as <c>kill -9</c>: no shutdown, no goodbye to the cluster or to Kafka.</summary>
    public void Kill()
    {
        _process.Kill(entireProcessTree: false);
        _process.WaitForExit(TimeSpan.FromSeconds(30));
    }

    /// <summary>SIGTERM, as an orchestrator stops a node (it drains and leaves the cluster); waits for it to exit.</summary>
    public async Task TerminateAsync(TimeSpan timeout)
    {
        using (var kill = Process.Start("kill", ["-TERM", _process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]))
            await kill.WaitForExitAsync();
        await _process.WaitForExitAsync().WaitAsync(timeout);
    }

    public void Dispose()
    {
        try
        {
            if (!_process.HasExited) _process.Kill(entireProcessTree: true);
            _process.WaitForExit(TimeSpan.FromSeconds(30));
        }
        finally
        {
            _process.Dispose();
        }
    }

    private void Keep(string? line, bool readListening)
    {
        if (line is null) return;
        _output.Enqueue(line);
        while (_output.Count > KeptLines) _output.TryDequeue(out _);
        if (readListening && ListeningLine().Match(line) is { Success: true } match) _listening.TrySetResult(new Uri(match.Groups[1].Value));
    }

    [GeneratedRegex(@"Now listening on: (http://[^\s""]+)")]
    private static partial Regex ListeningLine();
}
