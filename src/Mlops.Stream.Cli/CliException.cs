namespace Mlops.Stream.Cli;

/// <summary>
/// A failure the CLI reports as one line on stderr and an exit code (see <see cref="ExitCodes"/>).
/// Thrown by the admin client and the commands; caught in one place, <see cref="Cli"/>.
/// </summary>
public sealed class CliException(int exitCode, string message) : Exception(message)
{
    public int ExitCode { get; } = exitCode;
}
