using System.Collections.Immutable;

namespace Mlops.Stream.Actors.Placement;

/// <summary>
/// How many replicas each model should run, as the node's replica keeper last decided (from the
/// registry's scale and the cluster's size). Requests are routed only to replicas inside the plan,
/// so a replica being retired is not woken again by a request sent to it.
/// </summary>
public sealed class ReplicaPlan
{
    private volatile ImmutableDictionary<string, int> _counts = ImmutableDictionary<string, int>.Empty;

    /// <summary>The planned count of <paramref name="model"/>; 1 before the first plan (replica 0 always exists).</summary>
    public int CountOf(string model) => _counts.TryGetValue(model, out var count) ? count : 1;

    public void Set(IReadOnlyDictionary<string, int> counts) => _counts = counts.ToImmutableDictionary(StringComparer.Ordinal);
}
