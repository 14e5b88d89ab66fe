using System.CommandLine;
using System.CommandLine.Invocation;

namespace Mlops.Stream.Cli;

/// <summary>What a command's action gets: the client for the node, where to print, and how.</summary>
internal sealed record CommandContext(ParseResult Parse, AdminClient Client, OutputFormat Format, TextWriter Out);

/// <summary>
/// The <c>mlops</c> command line, runnable in-process: <see cref="Program.Main"/> calls
/// <see cref="RunAsync"/> with the console, tests call it with string writers and their own
/// environment. All error reporting happens here: one line on stderr, one exit code (<see cref="ExitCodes"/>).
/// </summary>
public static class Cli
{
    private const string Description = """
        Operate an Mlops.Stream node through its admin API (/api/v1).

        The node's address comes from --url, else MLOPS_URL, else http://127.0.0.1:8080; the admin key
        from --key, else MLOPS_ADMIN_KEY (sent as 'Authorization: Bearer <key>').
        --output json prints the server's JSON as it answered, for scripts; errors go to stderr only.

        Exit codes:
          0  done (changes are idempotent: 'already so' is success too)
          1  the node refused the request (HTTP 4xx: unknown model, version, topic or cluster member,
             conflict, invalid model, missing or wrong key, rate limited); stderr has the server's
             message and code
          2  usage error (unknown command or option, bad value, missing file); nothing was sent
          3  cannot reach the node, no answer within --timeout, server error (HTTP 5xx), or an answer
             that is not the admin API's
          4  a bug in the CLI itself (please report the line on stderr)
        """;

    /// <summary>Parses <paramref name="args"/>, runs the command and returns the process exit code.</summary>
    /// <param name="environment">Reads an environment variable; <see cref="Environment.GetEnvironmentVariable(string)"/> when null.</param>
    public static async Task<int> RunAsync(string[] args, TextWriter stdout, TextWriter stderr,
        Func<string, string?>? environment = null, CancellationToken cancellationToken = default)
    {
        var root = BuildRootCommand(stdout, stderr, environment ?? Environment.GetEnvironmentVariable);
        var parse = root.Parse(args);
        if (parse.Action is ParseErrorAction)
        {
            // System.CommandLine would print help and exit 1, which scripts would read as "refused".
            // Some of its messages span lines (a list of allowed values); the contract is one line.
            var errors = string.Join("; ", parse.Errors.Select(e => OneLine(e.Message)).Distinct());
            stderr.WriteLine($"mlops: {errors} (see '{CommandPath(parse)} --help')");
            return ExitCodes.Usage;
        }

        var invocation = new InvocationConfiguration { Output = stdout, Error = stderr, EnableDefaultExceptionHandler = false };
        try
        {
            return await parse.InvokeAsync(invocation, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            stderr.WriteLine($"mlops: internal error, please report: {e.GetType().Name}: {e.Message}");
            return ExitCodes.Internal;
        }
    }

    internal static RootCommand BuildRootCommand(TextWriter stdout, TextWriter stderr, Func<string, string?> environment)
    {
        var globals = new GlobalOptions();
        var root = new RootCommand(Description);
        globals.AddTo(root);
        var runner = new CommandRunner(globals, stdout, stderr, environment);
        root.Subcommands.Add(ModelsCommands.Build(runner));
        root.Subcommands.Add(AuditCommand.Build(runner));
        root.Subcommands.Add(ClusterCommands.Build(runner));
        root.Subcommands.Add(ShardsCommand.Build(runner));
        root.Subcommands.Add(TopicsCommands.Build(runner));
        root.Subcommands.Add(TailCommand.Build(runner));
        root.Subcommands.Add(LoadCommand.Build(runner));
        root.Subcommands.Add(FeedbackCommand.Build(runner));
        root.Subcommands.Add(DriftCommands.Build(runner));
        return root;
    }

    private static string OneLine(string message) =>
        string.Join(' ', message.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));

    private static string CommandPath(ParseResult parse)
    {
        var names = new List<string>();
        for (var result = parse.CommandResult; result is not null; result = result.Parent as System.CommandLine.Parsing.CommandResult)
            names.Add(result.Command is RootCommand ? "mlops" : result.Command.Name);
        names.Reverse();
        return string.Join(' ', names);
    }
}

/// <summary>
/// Runs one command's action with what every action needs (endpoint, client, output format) and
/// turns its failures into the stderr line and exit code. Actions only return or throw
/// <see cref="CliException"/>.
/// </summary>
internal sealed class CommandRunner(GlobalOptions globals, TextWriter stdout, TextWriter stderr, Func<string, string?> environment)
{
    public void SetAction(Command command, Func<CommandContext, CancellationToken, Task> action) =>
        command.SetAction(async (parse, ct) =>
        {
            try
            {
                using var client = new AdminClient(globals.EndpointOf(parse, environment));
                await action(new CommandContext(parse, client, globals.FormatOf(parse), stdout), ct).ConfigureAwait(false);
                return ExitCodes.Ok;
            }
            catch (CliException e)
            {
                stderr.WriteLine($"mlops: {e.Message}");
                return e.ExitCode;
            }
        });
}
