using Mlops.Stream.Host.Options;

namespace Mlops.Stream.Host;

/// <summary>How a program of this host runs: the node (Program.cs) and the standalone <c>drift</c> verb alike.</summary>
public static class HostRun
{
    /// <summary>
    /// Composes, maps and starts a web application, then runs it until it is stopped (Ctrl+C,
    /// SIGTERM). A setting it cannot run with stops it before it serves anything: one line per bad
    /// setting on stderr, naming the key, and exit code 2 (<see cref="ConfigurationErrors"/>).
    /// </summary>
    public static async Task<int> UntilStoppedAsync(string[] args, Action<WebApplicationBuilder> compose, Action<WebApplication> map)
    {
        var builder = WebApplication.CreateBuilder(args);
        WebApplication? app = null;
        try
        {
            compose(builder);
            app = builder.Build();
            map(app);
            await app.StartAsync();
        }
        catch (Exception e) when (ConfigurationErrors.From(e, app?.Services) is { } errors)
        {
            // A bad setting is the operator's to fix: one line naming the key, exit code 2, no stack trace.
            ConfigurationErrors.Write(errors, Console.Error);
            if (app is not null) await app.StopAfterFailedStartAsync();
            return ConfigurationErrors.ExitCode;
        }

        await app.WaitForShutdownAsync();
        await app.DisposeAsync();
        return 0;
    }
}
