using Microsoft.Extensions.Options;

namespace Mlops.Stream.Host.Shutdown;

/// <summary>Section <c>Shutdown</c>: how a node stops on SIGTERM or Ctrl+C (see <see cref="GracefulStop"/>).</summary>
public sealed class ShutdownOptions
{
    public const string Section = "Shutdown";

    /// <summary>
    /// How long the node keeps serving after SIGTERM with readiness already 503 ("shutting down"),
    /// so load balancers stop sending to it before it stops listening. 0 for a laptop; about the
    /// readiness probe's period times its failure threshold behind Kubernetes (e.g. 5 s).
    /// </summary>
    public TimeSpan DrainDelay { get; set; } = TimeSpan.Zero;

    /// <summary>
    /// The most a stop may take in all: HTTP and gRPC calls in flight finish, then the replicas drain
    /// their Kafka streams (answering and committing what they hold) and hand their shards over. Past
    /// it the node stops anyway; what it had not committed is redelivered to the next owner.
    /// </summary>
    public TimeSpan Timeout { get; set; } = TimeSpan.FromSeconds(30);
}

public sealed class ShutdownOptionsValidator : IValidateOptions<ShutdownOptions>
{
    public ValidateOptionsResult Validate(string? name, ShutdownOptions options)
    {
        var failures = new List<string>();
        if (options.DrainDelay < TimeSpan.Zero || options.DrainDelay > TimeSpan.FromMinutes(5))
            failures.Add($"{ShutdownOptions.Section}:{nameof(ShutdownOptions.DrainDelay)} must be from 00:00:00 to 00:05:00 (found {options.DrainDelay}).");
        if (options.Timeout < TimeSpan.FromSeconds(1) || options.Timeout > TimeSpan.FromMinutes(10))
            failures.Add($"{ShutdownOptions.Section}:{nameof(ShutdownOptions.Timeout)} must be from 00:00:01 to 00:10:00 (found {options.Timeout}).");
        else if (options.DrainDelay >= options.Timeout)
            failures.Add($"{ShutdownOptions.Section}:{nameof(ShutdownOptions.DrainDelay)} ({options.DrainDelay}) must be shorter than {ShutdownOptions.Section}:{nameof(ShutdownOptions.Timeout)} ({options.Timeout}).");
        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
