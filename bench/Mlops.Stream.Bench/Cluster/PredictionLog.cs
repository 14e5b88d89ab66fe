using Confluent.Kafka;
using Mlops.Stream.Actors.Serving;

namespace Mlops.Stream.Bench.Cluster;

/// <summary>One prediction record: the request id from its header and the record's timestamp (set by the node that wrote it).</summary>
public readonly record struct Prediction(string RequestId, long TimestampMs);

/// <summary>
/// Reads the prediction topic from its start for the whole run, in the background, and keeps every
/// record (duplicates included). Reading all along, rather than once at the end, keeps the bench
/// ahead of the embedded broker's bounded partition logs, which drop their oldest records.
/// Request ids are <c>&lt;run&gt;-&lt;n&gt;</c>; records are grouped by run so each phase asks for its own.
/// </summary>
public sealed class PredictionLog : IDisposable
{
    private readonly object _gate = new();
    private readonly Dictionary<string, List<Prediction>> _byRun = new();
    private readonly Dictionary<string, HashSet<string>> _distinct = new();
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _reader;

    public PredictionLog(string bootstrap, string topic)
    {
        _reader = Task.Factory.StartNew(() => Read(bootstrap, topic), TaskCreationOptions.LongRunning);
    }

    public static string RunOf(string requestId) => requestId[..requestId.LastIndexOf('-')];

    /// <summary>Distinct request ids of <paramref name="run"/> with a prediction so far.</summary>
    public int Distinct(string run)
    {
        lock (_gate) return _distinct.TryGetValue(run, out var ids) ? ids.Count : 0;
    }

    /// <summary>Every prediction record of <paramref name="run"/> so far, duplicates included.</summary>
    public IReadOnlyList<Prediction> Records(string run)
    {
        lock (_gate) return _byRun.TryGetValue(run, out var records) ? [.. records] : [];
    }

    /// <summary>Waits until <paramref name="run"/> has <paramref name="expected"/> distinct predictions or the timeout passes.</summary>
    public async Task<bool> WaitForAsync(string run, int expected, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (Distinct(run) < expected)
        {
            if (DateTime.UtcNow > deadline) return false;
            await Task.Delay(20);
        }
        return true;
    }

    private void Read(string bootstrap, string topic)
    {
        using var consumer = new ConsumerBuilder<string, byte[]>(new ConsumerConfig
        {
            BootstrapServers = bootstrap, GroupId = $"bench-predictions-{Guid.NewGuid():N}", AutoOffsetReset = AutoOffsetReset.Earliest,
            EnableAutoCommit = false, FetchWaitMaxMs = 5,
        }).Build();
        consumer.Subscribe(topic);
        while (!_stop.IsCancellationRequested)
        {
            if (consumer.Consume(TimeSpan.FromMilliseconds(100)) is not { Message: { } message }) continue;
            if (ServingHeaders.Read(message.Headers, ServingHeaders.RequestId) is not { } id || !id.Contains('-')) continue;
            var run = RunOf(id);
            lock (_gate)
            {
                if (!_byRun.TryGetValue(run, out var records)) _byRun[run] = records = [];
                records.Add(new Prediction(id, message.Timestamp.UnixTimestampMs));
                if (!_distinct.TryGetValue(run, out var ids)) _distinct[run] = ids = [];
                ids.Add(id);
            }
        }
        consumer.Close();
    }

    public void Dispose()
    {
        _stop.Cancel();
        _reader.Wait(TimeSpan.FromSeconds(10));
        _stop.Dispose();
    }
}
