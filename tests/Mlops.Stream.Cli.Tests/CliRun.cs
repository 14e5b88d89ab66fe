namespace Mlops.Stream.Cli.Tests;

/// <summary>What one in-process run of <c>mlops</c> printed and returned.</summary>
public sealed record CliRun(int ExitCode, string Stdout, string Stderr)
{
    public string[] StdoutLines => Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);

    /// <summary>
    /// Runs the CLI with <paramref name="environment"/> as its whole environment, so the machine's
    /// own MLOPS_URL or MLOPS_ADMIN_KEY never leak into a test and tests need not mutate the process.
    /// </summary>
    public static async Task<CliRun> RunAsync(IReadOnlyDictionary<string, string>? environment, params string[] args)
    {
        using var stdout = new StringWriter();
        using var stderr = new StringWriter();
        var exitCode = await Cli.RunAsync(args, stdout, stderr, name => environment?.GetValueOrDefault(name));
        return new CliRun(exitCode, stdout.ToString(), stderr.ToString());
    }

    public override string ToString() => $"exit {ExitCode}\n--- stdout\n{Stdout}--- stderr\n{Stderr}";
}
