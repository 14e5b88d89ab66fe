using System.CommandLine;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace Mlops.Stream.Cli;

/// <summary>How results are printed: aligned tables for people, the server's JSON for scripts.</summary>
internal enum OutputFormat
{
    Table,
    Json,
}

/// <summary>
/// The options every command takes (recursive, so they go before or after the command name):
/// where the node is, which key to send, how to print, how long to wait. Environment variables
/// are read here, once: an option given on the command line wins over its variable.
/// </summary>
internal sealed class GlobalOptions
{
    public const string UrlVariable = "MLOPS_URL";
    public const string KeyVariable = "MLOPS_ADMIN_KEY";
    public const string CaCertificateVariable = "MLOPS_CA_CERT";
    public const string DefaultUrl = "http://127.0.0.1:8080";
    public const double DefaultTimeoutSeconds = 100;
    public const double MaxTimeoutSeconds = 86_400;

    public Option<string?> Url { get; } = new("--url", "-u")
    {
        Description = $"The node's HTTP address [env: {UrlVariable}; default: {DefaultUrl}]",
        HelpName = "url",
        Recursive = true,
    };

    public Option<string?> Key { get; } = new("--key", "-k")
    {
        Description = $"Admin API key, sent as 'Authorization: Bearer <key>' [env: {KeyVariable}]. Prefer the variable: options show up in shell history and process lists",
        HelpName = "key",
        Recursive = true,
    };

    public Option<string?> CaCertificate { get; } = new("--ca-cert")
    {
        Description = $"PEM file of the CA (or the self-signed certificate) to trust for an https:// node [env: {CaCertificateVariable}]",
        HelpName = "file",
        Recursive = true,
    };

    public Option<string> Output { get; } = new("--output", "-o")
    {
        Description = "table (for people) or json (for scripts: the server's JSON as it answered)",
        DefaultValueFactory = _ => "table",
        HelpName = "table|json",
        Recursive = true,
    };

    public Option<double> Timeout { get; } = new("--timeout")
    {
        Description = "How long to wait for the node's answer before giving up (exit 3): seconds, or 500ms, 60s, 2m",
        DefaultValueFactory = _ => DefaultTimeoutSeconds,
        HelpName = "duration",
        Recursive = true,
        CustomParser = Parsers.Seconds("--timeout", 0, MaxTimeoutSeconds, exclusiveMin: true),
    };

    public GlobalOptions()
    {
        Output.AcceptOnlyFromAmong("table", "json");
    }

    public void AddTo(Command command)
    {
        command.Options.Add(Url);
        command.Options.Add(Key);
        command.Options.Add(CaCertificate);
        command.Options.Add(Output);
        command.Options.Add(Timeout);
    }

    public OutputFormat FormatOf(ParseResult parse) =>
        string.Equals(parse.GetValue(Output), "json", StringComparison.OrdinalIgnoreCase) ? OutputFormat.Json : OutputFormat.Table;

    /// <summary>The endpoint from options, then environment, then defaults; a malformed URL is a usage error.</summary>
    public AdminEndpoint EndpointOf(ParseResult parse, Func<string, string?> environment)
    {
        var (url, source) = parse.GetValue(Url) is { Length: > 0 } fromOption
            ? (fromOption, "--url")
            : environment(UrlVariable) is { Length: > 0 } fromEnvironment
                ? (fromEnvironment, UrlVariable)
                : (DefaultUrl, "the default URL");
        if (!Uri.TryCreate(url.Trim(), UriKind.Absolute, out var uri) || (uri.Scheme != Uri.UriSchemeHttp && uri.Scheme != Uri.UriSchemeHttps))
            throw new CliException(ExitCodes.Usage, $"{source} '{url}' is not an http:// or https:// address");
        var key = parse.GetValue(Key) is { Length: > 0 } keyOption ? keyOption : environment(KeyVariable);
        var caCertificate = parse.GetValue(CaCertificate) is { Length: > 0 } caOption ? caOption : environment(CaCertificateVariable);
        return new AdminEndpoint(uri, string.IsNullOrWhiteSpace(key) ? null : key.Trim(), TimeSpan.FromSeconds(parse.GetValue(Timeout)),
            string.IsNullOrWhiteSpace(caCertificate) ? null : TrustedRoots(caCertificate.Trim()));
    }

    private static X509Certificate2Collection TrustedRoots(string path)
    {
        var roots = new X509Certificate2Collection();
        try
        {
            roots.ImportFromPemFile(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or CryptographicException)
        {
            throw new CliException(ExitCodes.Usage, $"--ca-cert '{path}' could not be read as PEM certificates: {e.Message.TrimEnd('.')}");
        }
        if (roots.Count == 0) throw new CliException(ExitCodes.Usage, $"--ca-cert '{path}' holds no PEM certificate");
        return roots;
    }
}
