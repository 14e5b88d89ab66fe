namespace Mlops.Stream.Bench.Scenarios.Pipeline;

/// <summary>
/// Latencies in milliseconds, every one kept (a run holds at most a few hundred thousand) and sorted
/// once for exact nearest-rank percentiles. Safe to add to from many threads.
/// </summary>
public sealed class LatencySample
{
    private readonly object _gate = new();
    private readonly List<double> _ms = [];
    private double[]? _sorted;

    public int Count
    {
        get { lock (_gate) return _ms.Count; }
    }

    public void Add(double ms)
    {
        lock (_gate)
        {
            _ms.Add(ms);
            _sorted = null;
        }
    }

    /// <summary>The nearest-rank percentile, <paramref name="p"/> from 0 to 1; 0 when empty.</summary>
    public double Percentile(double p)
    {
        lock (_gate)
        {
            _sorted ??= [.. _ms.Order()];
            return _sorted.Length == 0 ? 0 : _sorted[Math.Clamp((int)Math.Ceiling(p * _sorted.Length) - 1, 0, _sorted.Length - 1)];
        }
    }

    public double P50 => Percentile(0.50);

    public double P99 => Percentile(0.99);

    public double P999 => Percentile(0.999);
}
