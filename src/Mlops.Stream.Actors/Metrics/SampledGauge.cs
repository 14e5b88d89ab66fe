using Prometheus;

namespace Mlops.Stream.Actors.Metrics;

/// <summary>
/// A labelled gauge whose series are all set again at every scrape (queue depth, lag): a series
/// not set in the latest round (a replica that stopped, a partition revoked) is removed instead of
/// being exported with its last value forever. Series set twice in one round add up (two replicas
/// of one model on a node report one sum).
/// </summary>
public sealed class SampledGauge(Gauge gauge)
{
    private readonly object _gate = new();
    private Dictionary<string, string[]> _previous = new();
    private Dictionary<string, string[]> _current = new();

    /// <summary>Starts a round; every series to keep must be <see cref="Set"/> before <see cref="EndRound"/>.</summary>
    public void BeginRound()
    {
        lock (_gate) _current = new Dictionary<string, string[]>();
    }

    public void Set(double value, params string[] labels)
    {
        bool again;
        lock (_gate) again = !_current.TryAdd(string.Join('\u0001', labels), labels);
        if (again) gauge.WithLabels(labels).Inc(value);
        else gauge.WithLabels(labels).Set(value);
    }

    public void EndRound()
    {
        lock (_gate)
        {
            foreach (var (key, labels) in _previous)
                if (!_current.ContainsKey(key)) gauge.RemoveLabelled(labels);
            _previous = _current;
        }
    }
}
