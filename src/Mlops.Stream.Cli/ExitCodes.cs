namespace Mlops.Stream.Cli;

/// <summary>
/// The process exit codes of <c>mlops</c>, a contract for scripts: never renumber one.
/// Every non-zero code comes with exactly one line on stderr saying why.
/// </summary>
public static class ExitCodes
{
    /// <summary>The command did what it was asked (an idempotent change that had nothing to do included).</summary>
    public const int Ok = 0;

    /// <summary>The server refused the request (HTTP 4xx: unknown model, conflict, invalid model, missing or wrong key, rate limited).</summary>
    public const int Refused = 1;

    /// <summary>The command line is wrong (unknown command or option, bad value, missing file); nothing was sent.</summary>
    public const int Usage = 2;

    /// <summary>The server could not be reached, did not answer in time, failed (HTTP 5xx) or answered with something that is not the admin API.</summary>
    public const int Unavailable = 3;

    /// <summary>A bug in the CLI itself (an unexpected exception); the line on stderr says what to report.</summary>
    public const int Internal = 4;
}
