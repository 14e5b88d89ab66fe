namespace Mlops.Stream.Inference.Registry;

/// <summary>
/// How a registry whose state lives elsewhere (MLflow) is doing, for readiness and metrics. A node
/// that lost its registry keeps serving the state it read last (<see cref="HasState"/>), so losing
/// it is a degradation, not a reason to stop serving.
/// </summary>
/// <param name="Backend">The backend's kind, e.g. <c>mlflow</c>.</param>
/// <param name="Endpoint">Where it is reached (the tracking URI).</param>
/// <param name="Reachable">Whether the last call answered (a 4xx is an answer; a refused connection, a timeout or a 5xx is not).</param>
/// <param name="HasState">Whether the registry's state was read at least once, so there is something to serve from.</param>
/// <param name="LastSuccess">When a call last answered.</param>
/// <param name="UnreachableSince">When the calls began to fail, while they fail.</param>
/// <param name="Errors">Calls that failed since the node started.</param>
/// <param name="LastError">Why the last failed call failed.</param>
public sealed record RegistryReachability(
    string Backend, string Endpoint, bool Reachable, bool HasState, DateTimeOffset? LastSuccess, DateTimeOffset? UnreachableSince,
    long Errors, string? LastError);

/// <summary>A registry that reports whether its backend can be reached (see <see cref="RegistryReachability"/>).</summary>
public interface IRegistryReachability
{
    RegistryReachability Reachability { get; }
}
