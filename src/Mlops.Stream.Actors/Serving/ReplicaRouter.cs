using System.Text;
using Mlops.Stream.Inference.Batching;
using Mlops.Stream.Inference.Gateway;

namespace Mlops.Stream.Actors.Serving;

/// <summary>
/// Chooses the batcher a request goes to: the production one, or the canary one for the share of
/// request ids that a stable hash puts under the canary weight, so a retried request lands on the
/// same version. Read by the Kafka stream and the HTTP path on their own threads; written only by
/// the replica actor.
/// </summary>
public sealed class ReplicaRouter(DynamicBatcher production)
{
    private sealed record Canary(DynamicBatcher Batcher, double Weight);

    private volatile DynamicBatcher _production = production;
    private volatile Canary? _canary;

    public DynamicBatcher Production => _production;

    public DynamicBatcher? CanaryBatcher => _canary?.Batcher;

    public double CanaryWeight => _canary?.Weight ?? 0;

    public DynamicBatcher Route(string requestId) =>
        _canary is { } canary && BucketOf(requestId) < canary.Weight ? canary.Batcher : _production;

    public void SetCanary(DynamicBatcher batcher, double weight) => _canary = new Canary(batcher, weight);

    public void ClearCanary() => _canary = null;

    /// <summary>
    /// A stable position in [0, 1) for a request id: FNV-1a over its UTF-8 bytes, then MurmurHash3's
    /// finalizer, because FNV alone leaves ids that differ only in their last characters
    /// ("id-1", "id-2") next to each other in the high bits.
    /// </summary>
    public static double BucketOf(string requestId)
    {
        var hash = 2166136261u;
        foreach (var b in Encoding.UTF8.GetBytes(requestId))
        {
            hash ^= b;
            hash *= 16777619u;
        }
        hash ^= hash >> 16;
        hash *= 0x85ebca6bu;
        hash ^= hash >> 13;
        hash *= 0xc2b2ae35u;
        hash ^= hash >> 16;
        return hash / 4294967296.0;
    }
}
