namespace Mlops.Stream.Host.Tests.Infrastructure;

/// <summary>The real `mlops` CLI run in-process, with no environment variables of its own.</summary>
public static class MlopsCli
{
    public static async Task<(int Code, string Output, string Error)> RunAsync(params string[] args)
    {
        using var stdout = new StringWriter();
        using var stderr = new StringWriter();
        var code = await global::Mlops.Stream.Cli.Cli.RunAsync(args, stdout, stderr, _ => null);
        return (code, stdout.ToString(), stderr.ToString());
    }
}
