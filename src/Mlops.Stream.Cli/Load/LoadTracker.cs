namespace Mlops.Stream.Cli.Load;

/// <summary>
/// Matches a load run's predictions to its requests and measures two latencies per request: Kafka's
/// (request record timestamp → prediction record timestamp, both set by the node's clock) and the
/// client's (the intended send time → the prediction's arrival here, so a late send counts against
/// the system: no coordinated omission). A prediction can arrive before the produce call that wrote
/// its request has answered; the pair completes whichever comes second. Thread-safe.
/// </summary>
/// <remarks>
/// Only requests still waiting for their prediction or their produce answer are held, so memory
/// follows what is in flight, not the length of the run.
/// </remarks>
internal sealed class LoadTracker(string idPrefix, Func<TimeSpan> elapsed)
{
    private readonly object _gate = new();
    private readonly Dictionary<string, Pending> _pending = new(StringComparer.Ordinal);
    private readonly LatencyHistogram _kafka = new();
    private readonly LatencyHistogram _client = new();
    private readonly TaskCompletionSource _allAnswered = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private bool _sendingFinished;

    public long Sent { get; private set; }
    public long Failed { get; private set; }
    /// <summary>Why the first batch that failed was not written.</summary>
    public CliException? FirstError { get; private set; }
    public long Predicted { get; private set; }
    public long Duplicates { get; private set; }

    /// <summary>Completes when sending has finished and every sent request has its prediction.</summary>
    public Task AllAnswered => _allAnswered.Task;

    /// <summary>Requests acknowledged by Kafka that have no prediction (yet).</summary>
    public long Missing
    {
        get
        {
            lock (_gate) return _pending.Values.Count(p => p.RequestTimestamp is not null && p.PredictionTimestamp is null);
        }
    }

    /// <summary>A batch is about to be posted: its ids and intended send times (since the run's start).</summary>
    public void Dispatching(IEnumerable<(string Id, TimeSpan Intended)> requests)
    {
        lock (_gate)
            foreach (var (id, intended) in requests) _pending[id] = new Pending(intended);
    }

    /// <summary>The node wrote the batch: each request's Kafka record timestamp.</summary>
    public void Produced(IEnumerable<(string Id, DateTimeOffset Timestamp)> records)
    {
        lock (_gate)
        {
            foreach (var (id, timestamp) in records)
            {
                if (!_pending.TryGetValue(id, out var pending)) continue;
                Sent++;
                pending.RequestTimestamp = timestamp;
                CompleteIfPaired(id, pending);
            }
            CheckAllAnswered();
        }
    }

    /// <summary>The batch could not be sent; its requests count as failed, not missing.</summary>
    public void SendFailed(IEnumerable<string> ids, CliException error)
    {
        lock (_gate)
        {
            foreach (var id in ids)
                if (_pending.Remove(id)) Failed++;
            FirstError ??= error;
            CheckAllAnswered();
        }
    }

    /// <summary>A prediction arrived; ids of other producers are ignored, a second one for the same request counts as a duplicate.</summary>
    public void PredictionArrived(string id, DateTimeOffset timestamp)
    {
        var arrived = elapsed();
        lock (_gate)
        {
            if (!_pending.TryGetValue(id, out var pending) || pending.PredictionTimestamp is not null)
            {
                // At-least-once delivery may repeat a prediction; ours are known by the run's prefix.
                if (id.StartsWith(idPrefix, StringComparison.Ordinal)) Duplicates++;
                return;
            }
            Predicted++;
            _client.Record((arrived - pending.Intended).TotalMilliseconds);
            pending.PredictionTimestamp = timestamp;
            CompleteIfPaired(id, pending);
            CheckAllAnswered();
        }
    }

    public void SendingFinished()
    {
        lock (_gate)
        {
            _sendingFinished = true;
            CheckAllAnswered();
        }
    }

    public (LatencySummary? Kafka, LatencySummary? Client) Latencies()
    {
        lock (_gate) return (_kafka.Summary(), _client.Summary());
    }

    private void CompleteIfPaired(string id, Pending pending)
    {
        if (pending is not { RequestTimestamp: { } requested, PredictionTimestamp: { } predicted }) return;
        _kafka.Record((predicted - requested).TotalMilliseconds);
        _pending.Remove(id);
    }

    private void CheckAllAnswered()
    {
        if (_sendingFinished && _pending.Count == 0) _allAnswered.TrySetResult();
    }

    private sealed class Pending(TimeSpan intended)
    {
        public TimeSpan Intended { get; } = intended;
        public DateTimeOffset? RequestTimestamp { get; set; }
        public DateTimeOffset? PredictionTimestamp { get; set; }
    }
}
