namespace Mlops.Stream.Cli.Load;

/// <summary>
/// Latencies in buckets that grow by 1% from 1 µs to about 6 hours, so percentiles are within 1%
/// while memory stays fixed however long a load runs. The maximum is kept exactly. Not thread-safe.
/// </summary>
internal sealed class LatencyHistogram
{
    private const double SmallestMs = 0.001;
    private const double Growth = 1.01;
    private const int Buckets = 2400;
    private static readonly double LogGrowth = Math.Log(Growth);

    private readonly long[] _counts = new long[Buckets];

    public long Count { get; private set; }

    public double MaxMs { get; private set; }

    /// <summary>Records one latency; negative ones (clock steps) count as zero.</summary>
    public void Record(double milliseconds)
    {
        var ms = Math.Max(0, milliseconds);
        _counts[BucketOf(ms)]++;
        Count++;
        MaxMs = Math.Max(MaxMs, ms);
    }

    /// <summary>The latency at or below which <paramref name="quantile"/> of the samples lie (the bucket's upper edge, capped at the maximum).</summary>
    public double Percentile(double quantile)
    {
        if (Count == 0) return 0;
        var rank = (long)Math.Ceiling(quantile * Count);
        long seen = 0;
        for (var bucket = 0; bucket < Buckets; bucket++)
        {
            seen += _counts[bucket];
            if (seen >= rank) return Math.Min(UpperEdge(bucket), MaxMs);
        }
        return MaxMs;
    }

    /// <summary>p50, p90, p99 and max to the microsecond; null without samples.</summary>
    public LatencySummary? Summary() =>
        Count == 0 ? null : new LatencySummary(Micros(Percentile(0.50)), Micros(Percentile(0.90)), Micros(Percentile(0.99)), Micros(MaxMs), Count);

    private static double Micros(double ms) => Math.Round(ms, 3);

    private static int BucketOf(double ms) =>
        ms <= SmallestMs ? 0 : Math.Min(Buckets - 1, (int)Math.Ceiling(Math.Log(ms / SmallestMs) / LogGrowth));

    private static double UpperEdge(int bucket) => SmallestMs * Math.Pow(Growth, bucket);
}
