using System.Text.RegularExpressions;
using Microsoft.Extensions.Options;

namespace Mlops.Stream.Host.Options;

/// <summary>Section <c>Akka</c>: the node's actor system and cluster membership.</summary>
public sealed class AkkaOptions
{
    public const string Section = "Akka";

    /// <summary>Actor system name; every node of one cluster must use the same.</summary>
    public string SystemName { get; set; } = "mlops";

    /// <summary>Address the remoting transport binds to.</summary>
    public string Hostname { get; set; } = "127.0.0.1";

    /// <summary>Address other nodes reach this one at, when it differs from <see cref="Hostname"/> (containers, NAT).</summary>
    public string? PublicHostname { get; set; }

    /// <summary>Remoting port; 0 picks a free one (fine for a single node, not for a seed other nodes must find).</summary>
    public int Port { get; set; } = 4053;

    /// <summary>Seed node addresses (<c>akka.tcp://mlops@host:port</c>). Empty: the node joins itself and forms a one-node cluster.</summary>
    public string[] SeedNodes { get; set; } = [];

    /// <summary>
    /// How long the cluster must look the same (no member changing reachability) before the
    /// split-brain resolver (keep-majority) downs the unreachable members, so their replicas restart
    /// elsewhere. Akka's default is 20 s, tuned for clouds where pauses are long; 7 s suits a LAN or
    /// loopback. Lower fails over sooner but downs a node whose pause (GC, a stalled VM, a network
    /// blip) outlasts the failure detector's 3 s plus this.
    /// </summary>
    public TimeSpan DownUnreachableAfter { get; set; } = TimeSpan.FromSeconds(7);
}

/// <summary>Checks <see cref="AkkaOptions"/> at start; every message names the configuration key.</summary>
public sealed partial class AkkaOptionsValidator : IValidateOptions<AkkaOptions>
{
    public ValidateOptionsResult Validate(string? name, AkkaOptions options)
    {
        var failures = new List<string>();
        if (string.IsNullOrWhiteSpace(options.SystemName) || !SystemNamePattern().IsMatch(options.SystemName))
        {
            failures.Add($"{AkkaOptions.Section}:{nameof(AkkaOptions.SystemName)} must start with a letter or digit and use only letters, digits, '-' and '_' (found '{options.SystemName}').");
        }
        if (string.IsNullOrWhiteSpace(options.Hostname))
        {
            failures.Add($"{AkkaOptions.Section}:{nameof(AkkaOptions.Hostname)} must be a host name or IP address to bind to (found nothing).");
        }
        if (options.Port is < 0 or > 65535)
        {
            failures.Add($"{AkkaOptions.Section}:{nameof(AkkaOptions.Port)} must be from 0 (any free port) to 65535 (found {options.Port}).");
        }
        if (options.DownUnreachableAfter < TimeSpan.FromSeconds(1))
        {
            failures.Add($"{AkkaOptions.Section}:{nameof(AkkaOptions.DownUnreachableAfter)} must be at least 00:00:01 (found {options.DownUnreachableAfter}).");
        }
        for (var i = 0; i < options.SeedNodes.Length; i++)
        {
            var seed = options.SeedNodes[i];
            if (!Akka.Actor.Address.TryParse(seed, out var address) || address.Host is null || address.Port is null)
            {
                failures.Add($"{AkkaOptions.Section}:{nameof(AkkaOptions.SeedNodes)}:{i} must be an address like akka.tcp://{options.SystemName}@host:port (found '{seed}').");
            }
            else if (address.System != options.SystemName)
            {
                failures.Add($"{AkkaOptions.Section}:{nameof(AkkaOptions.SeedNodes)}:{i} names actor system '{address.System}' but {AkkaOptions.Section}:{nameof(AkkaOptions.SystemName)} is '{options.SystemName}'.");
            }
        }
        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }

    [GeneratedRegex("^[A-Za-z0-9][A-Za-z0-9_-]*$")]
    private static partial Regex SystemNamePattern();
}
