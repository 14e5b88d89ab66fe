using Mlops.Stream.Bench.Cluster;

namespace Mlops.Stream.Bench.Scenarios.Pipeline;

/// <summary>What the node spent over a stretch of time: managed bytes allocated and CPU seconds, from its <c>/metrics</c>.</summary>
public sealed record NodeCost(double AllocatedBytes, double CpuSeconds)
{
    public const string AllocatedMetric = "dotnet_gc_allocated_bytes_total";
    public const string CpuMetric = "process_cpu_seconds_total";

    public static NodeCost operator -(NodeCost a, NodeCost b) => new(a.AllocatedBytes - b.AllocatedBytes, a.CpuSeconds - b.CpuSeconds);

    public NodeCost PerRequest(double requests) => new(AllocatedBytes / requests, CpuSeconds / requests);

    /// <summary>The node's counters so far (node 0 of <paramref name="cluster"/>).</summary>
    public static async Task<NodeCost> ReadAsync(LocalCluster cluster) =>
        new(await cluster.MetricAsync(0, AllocatedMetric), await cluster.MetricAsync(0, CpuMetric));
}

/// <summary>
/// The node's cost counters read every 100 ms (wall-clock stamped) while it runs, so the cost of a
/// stretch known only afterwards (first to last prediction) can be cut out: from the last reading at
/// or before its start to the first at or after its end. A reading costs the node a scrape, about
/// 10 a second: noise of a few tens of bytes per request at these rates.
/// </summary>
public sealed class NodeCostTimeline : IAsyncDisposable
{
    private static readonly TimeSpan Interval = TimeSpan.FromMilliseconds(100);

    private readonly List<(long Ms, NodeCost Cost)> _readings = [];
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _sampling;

    public NodeCostTimeline(LocalCluster cluster) => _sampling = SampleAsync(cluster);

    /// <summary>The cost from the reading at or before <paramref name="fromMs"/> to the one at or after <paramref name="toMs"/>, and the seconds between those readings.</summary>
    public async Task<(NodeCost Cost, double Seconds)> BetweenAsync(long fromMs, long toMs)
    {
        await StopAsync();
        var before = _readings.LastOrDefault(r => r.Ms <= fromMs, _readings[0]);
        var after = _readings.FirstOrDefault(r => r.Ms >= toMs, _readings[^1]);
        return (after.Cost - before.Cost, Math.Max(after.Ms - before.Ms, 1) / 1000.0);
    }

    private async Task SampleAsync(LocalCluster cluster)
    {
        while (!_stop.IsCancellationRequested)
        {
            var start = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
            var cost = await NodeCost.ReadAsync(cluster);
            // Stamped at the middle of the scrape, which is when the node read its counters, give or take.
            _readings.Add(((start + DateTimeOffset.UtcNow.ToUnixTimeMilliseconds()) / 2, cost));
            try { await Task.Delay(Interval, _stop.Token); }
            catch (OperationCanceledException) { }
        }
    }

    private async Task StopAsync()
    {
        await _stop.CancelAsync();
        await _sampling;
    }

    public async ValueTask DisposeAsync()
    {
        await StopAsync();
        _stop.Dispose();
    }
}
