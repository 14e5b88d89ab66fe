namespace Mlops.Stream.Host.Options;

/// <summary>
/// A setting the node cannot run with, found by a check of ours (an address that does not parse, a
/// port already taken). Program.cs prints it as one line naming <see cref="Key"/> and exits with code 2.
/// </summary>
public sealed class ConfigurationException(string key, string problem) : Exception($"{key}: {problem}")
{
    /// <summary>The configuration key to fix, as an operator writes it (<c>Akka:Port</c>, <c>urls</c>).</summary>
    public string Key { get; } = key;

    /// <summary>What is wrong with it, in one sentence.</summary>
    public string Problem { get; } = problem;
}
