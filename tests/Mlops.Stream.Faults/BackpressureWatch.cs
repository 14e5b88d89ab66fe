using System.Diagnostics;

namespace Mlops.Stream.Faults;

/// <summary>
/// Consumer lag and node memory around a fault: <see cref="LagBefore"/> is the highest lag before it
/// started, <see cref="LagPeak"/> the highest from its start until the lag was back (backpressure
/// shows as this growing); RSS at the start, its peak over the same span and at the end (null
/// where the node's process cannot be seen). <see cref="Recovery"/> is how long after the fault the
/// lag was back to <see cref="LagBefore"/> (at least one second of load); null if it never was.
/// </summary>
public sealed record Backpressure(double LagBefore, double LagPeak, long? RssBefore, long? RssPeak, long? RssAfter, TimeSpan? Recovery)
{
    public override string ToString()
    {
        const double MiB = 1024 * 1024;
        var rss = RssBefore is { } before ? $"; node RSS before / peak / after {before / MiB:F0} / {RssPeak / MiB:F0} / {RssAfter / MiB:F0} MiB" : "";
        return $"consumer lag before / peak {LagBefore:F0} / {LagPeak:F0}, back after {(Recovery is { } r ? $"{r.TotalSeconds:F1} s" : "never")}{rss}";
    }
}

/// <summary>Samples a node's consumer lag (<c>mlops_consumer_lag_records</c>) and RSS in the background while a fault runs.</summary>
public sealed class BackpressureWatch : IAsyncDisposable
{
    private const string LagMetric = "mlops_consumer_lag_records";
    private static readonly TimeSpan Every = TimeSpan.FromMilliseconds(250);

    private readonly FaultTarget _target;
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _sampling;
    private readonly long? _rssBefore;
    private readonly object _gate = new();
    private bool _faultStarted;
    private double _lagBefore;
    private double _lagPeak;
    private double _lagNow = double.NaN;
    private long? _rssPeak;
    private TimeSpan? _recovery;

    private BackpressureWatch(FaultTarget target)
    {
        _target = target;
        _rssBefore = target.ResidentBytes?.Invoke();
        _rssPeak = _rssBefore;
        _sampling = Task.Run(SampleAsync);
    }

    public static BackpressureWatch Start(FaultTarget target) => new(target);

    /// <summary>From now on, lag and memory count as during the fault.</summary>
    public void FaultStarts()
    {
        lock (_gate) _faultStarted = true;
    }

    /// <summary>
    /// Waits (the fault being over) until the lag is back to its level before the fault, or at most
    /// one second of load (<paramref name="rate"/> records), whichever is higher; false if it is not within <paramref name="timeout"/>.
    /// </summary>
    public async Task<bool> WaitForRecoveryAsync(int rate, TimeSpan timeout)
    {
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < timeout)
        {
            lock (_gate)
            {
                if (_lagNow <= Math.Max(_lagBefore, rate))
                {
                    _recovery = clock.Elapsed;
                    _faultStarted = false;
                    return true;
                }
            }
            await Task.Delay(Every).ConfigureAwait(false);
        }
        return false;
    }

    /// <summary>Stops sampling; the figures, with the RSS now as the RSS after.</summary>
    public async Task<Backpressure> StopAsync()
    {
        await DisposeAsync().ConfigureAwait(false);
        lock (_gate) return new Backpressure(_lagBefore, _lagPeak, _rssBefore, _rssPeak, _target.ResidentBytes?.Invoke(), _recovery);
    }

    private async Task SampleAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            double? lag = null;
            try
            {
                lag = (await PrometheusText.ScrapeAsync(_target.Node, _stop.Token).ConfigureAwait(false)).Sum(LagMetric, ("model", _target.Model));
            }
            catch (Exception e) when (e is HttpRequestException or OperationCanceledException)
            {
                // A scrape that fails or is cut short by the stop is skipped: the lag is sampled, not logged.
            }
            var rss = _target.ResidentBytes?.Invoke();
            if (lag is { } sampled) Record(sampled, rss);
            try { await Task.Delay(Every, _stop.Token).ConfigureAwait(false); }
            catch (OperationCanceledException) { return; }
        }
    }

    private void Record(double lag, long? rss)
    {
        lock (_gate)
        {
            _lagNow = lag;
            if (_faultStarted)
            {
                _lagPeak = Math.Max(_lagPeak, lag);
                if (rss is { } now) _rssPeak = Math.Max(_rssPeak ?? 0, now);
            }
            else if (_recovery is null)
            {
                _lagBefore = Math.Max(_lagBefore, lag);
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (_stop.IsCancellationRequested) return;
        await _stop.CancelAsync().ConfigureAwait(false);
        await _sampling.ConfigureAwait(false);
        _stop.Dispose();
    }
}
