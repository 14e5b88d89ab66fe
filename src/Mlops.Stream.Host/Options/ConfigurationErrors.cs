using System.Net.Sockets;
using System.Text.RegularExpressions;
using Akka.Remote;
using Microsoft.AspNetCore.Connections;
using Microsoft.Extensions.Options;
using Mlops.Stream.Grpc;
using Mlops.Stream.Host.Listening;

namespace Mlops.Stream.Host.Options;

/// <summary>
/// Tells a bad setting apart from a bug when the node fails to start, and says it in one line per
/// setting: <c>mlops-stream: configuration error: &lt;key&gt;: &lt;problem&gt;</c>, exit code 2. A bad
/// setting is the operator's to fix, so it gets no stack trace; anything else is not recognised and
/// still crashes with one.
/// </summary>
public static partial class ConfigurationErrors
{
    /// <summary>The exit code of a node stopped by a bad setting (1 is left to the runtime's own failures).</summary>
    public const int ExitCode = 2;

    private const string AkkaPortKey = $"{AkkaOptions.Section}:{nameof(AkkaOptions.Port)}";
    private const string AkkaHostnameKey = $"{AkkaOptions.Section}:{nameof(AkkaOptions.Hostname)}";

    /// <summary>
    /// The settings <paramref name="error"/> blames, or null when it is not a configuration error.
    /// <paramref name="services"/> are the node's, once built: they say which key configured an address.
    /// </summary>
    public static IReadOnlyList<ConfigurationException>? From(Exception error, IServiceProvider? services) => error switch
    {
        ConfigurationException known => [known],
        // The gRPC server's own port is taken; it is not one of the HTTP addresses ListenKey knows.
        GrpcListenException grpc => [new(grpc.Key, grpc.Message)],
        // Our validators start every message with the key (they are written that way on purpose).
        OptionsValidationException invalid => invalid.Failures.Select(FromValidationFailure).ToList(),
        AggregateException { InnerExceptions: var inner } => FromAll(inner, services),
        InvalidOperationException when BinderFailure().Match(error.Message) is { Success: true } match =>
            [new(match.Groups["key"].Value, $"'{match.Groups["value"].Value}' is not {Describe(match.Groups["type"].Value)}")],
        // Kestrel could not listen on an address another process holds; its message quotes the address.
        IOException { InnerException: AddressInUseException } => [new(ListenKey(services, error.Message), error.Message.TrimEnd('.'))],
        // An https:// address without a certificate; Kestrel's message says how to make one.
        InvalidOperationException when error.Message.StartsWith("Unable to configure HTTPS endpoint", StringComparison.Ordinal) =>
            [new(ListenKey(services, error.Message), error.Message.TrimEnd('.'))],
        // Akka remoting could not bind its address (it no longer shares a port, see AkkaHostingExtensions).
        RemoteTransportException { InnerException: SocketException socket } => FromRemotingBind(socket, services),
        _ => null,
    };

    /// <summary>Writes one line per error, each naming its key.</summary>
    public static void Write(IEnumerable<ConfigurationException> errors, TextWriter output)
    {
        foreach (var error in errors)
        {
            output.WriteLine($"mlops-stream: configuration error: {error.Key}: {error.Problem.ReplaceLineEndings(" ")}");
        }
    }

    private static List<ConfigurationException>? FromAll(IEnumerable<Exception> errors, IServiceProvider? services)
    {
        var all = new List<ConfigurationException>();
        foreach (var error in errors)
        {
            if (From(error, services) is not { } found) return null;
            all.AddRange(found);
        }
        return all;
    }

    private static string ListenKey(IServiceProvider? services, string serverError) =>
        services?.GetService<ListenUrls>()?.KeyFor(serverError) ?? $"{HttpOptions.Section}:{nameof(HttpOptions.Url)}";

    private static ConfigurationException FromValidationFailure(string failure)
    {
        var space = failure.IndexOf(' ');
        return space <= 0 ? new("configuration", failure) : new(failure[..space], failure[(space + 1)..].TrimEnd('.'));
    }

    private static List<ConfigurationException>? FromRemotingBind(SocketException error, IServiceProvider? services)
    {
        var akka = services?.GetService<IOptions<AkkaOptions>>()?.Value ?? new AkkaOptions();
        return error.SocketErrorCode switch
        {
            SocketError.AddressAlreadyInUse => [new(AkkaPortKey,
                $"{akka.Hostname}:{akka.Port} is already in use (another node or process listens there); choose another port, or 0 for any free one")],
            SocketError.AddressNotAvailable => [new(AkkaHostnameKey,
                $"{akka.Hostname} is not an address of this machine, so remoting cannot listen on it; bind to one of its addresses (or 0.0.0.0) and set {AkkaOptions.Section}:{nameof(AkkaOptions.PublicHostname)} to the address other nodes reach")],
            _ => null,
        };
    }

    private static string Describe(string type) => type switch
    {
        "System.Int32" or "System.Int64" => "a whole number",
        "System.Double" => "a number",
        "System.Boolean" => "true or false",
        "System.TimeSpan" => "a duration such as 00:00:30",
        _ => $"a valid {type[(type.LastIndexOf('.') + 1)..]}",
    };

    // Microsoft.Extensions.Configuration.Binder's message for a value of the wrong type.
    [GeneratedRegex(@"^Failed to convert configuration value '(?<value>.*)' at '(?<key>[^']+)' to type '(?<type>[^']+)'\.$", RegexOptions.Singleline)]
    private static partial Regex BinderFailure();
}
