using Mlops.Stream.Inference.Batching;
using Mlops.Stream.Inference.Gateway;
namespace Mlops.Stream.Actors.Serving;

/// <summary>
/// Per-version request counts, failures and latency percentiles of one replica, recorded by the
/// Kafka stream and the HTTP path on their threads. Latencies go into a fixed ring per version
/// (the most recent <see cref="Window"/>), so memory stays bounded and percentiles follow current
/// behaviour — which is what the canary guard needs.
/// </summary>
public sealed class VersionStatistics
{
    public const int Window = 2048;

    private sealed class Entry
    {
        public long Served, Failed;
        public readonly double[] Latencies = new double[Window];
        public long Recorded;
    }

    private readonly object _gate = new();
    private readonly Dictionary<int, Entry> _byVersion = new();

    /// <summary>
    /// Counts a batcher result against the version that handled it: served, or failed in the model.
    /// Requests refused for their own content or for a full queue say nothing about the version.
    /// </summary>
    public void Record(BatchResult result)
    {
        if (result.Timings is not { } timings) return;
        if (result.IsServed) Record(result.ModelVersion, true, timings.QueueTime + timings.InferenceTime);
        else if (result.Rejection?.Reason == BatchRejectionReason.ModelFailed)
            Record(result.ModelVersion, false, timings.QueueTime + timings.InferenceTime);
    }

    public void Record(int version, bool succeeded, TimeSpan latency)
    {
        lock (_gate)
        {
            if (!_byVersion.TryGetValue(version, out var entry)) _byVersion[version] = entry = new Entry();
            if (succeeded) entry.Served++;
            else entry.Failed++;
            entry.Latencies[entry.Recorded++ % Window] = latency.TotalMilliseconds;
        }
    }

    /// <summary>Forget a version (a canary withdrawn and set again starts from a clean slate).</summary>
    public void Reset(int version)
    {
        lock (_gate) _byVersion.Remove(version);
    }

    public VersionStats Of(int version)
    {
        lock (_gate) return _byVersion.TryGetValue(version, out var entry) ? Stats(version, entry) : new VersionStats(version, 0, 0, 0, 0);
    }

    public IReadOnlyList<VersionStats> All()
    {
        lock (_gate) return _byVersion.OrderBy(e => e.Key).Select(e => Stats(e.Key, e.Value)).ToArray();
    }

    private static VersionStats Stats(int version, Entry entry)
    {
        var count = (int)Math.Min(entry.Recorded, Window);
        var sorted = entry.Latencies.AsSpan(0, count).ToArray();
        Array.Sort(sorted);
        return new VersionStats(version, entry.Served, entry.Failed, Percentile(sorted, 0.50), Percentile(sorted, 0.99));
    }

    private static double Percentile(double[] sorted, double p) =>
        sorted.Length == 0 ? 0 : sorted[Math.Min(sorted.Length - 1, (int)Math.Ceiling(p * sorted.Length) - 1)];
}
