using Akka.Event;
using Error = Confluent.Kafka.Error;
using Confluent.Kafka;
using Mlops.Stream.Kafka.Dsl;
using Mlops.Stream.Kafka.Settings;
using Mlops.Stream.Kafka.Supervision;

namespace Mlops.Stream.Kafka.Internal;

/// <summary>
/// Owns one Confluent.Kafka consumer and the thread that polls it (librdkafka's poll blocks, and
/// rebalance callbacks run on the polling thread, so one thread owns both). Records go into a
/// bounded buffer that the source stage drains on demand; when the buffer is full, or downstream
/// has not asked for anything yet, or the source was stopped, every assigned partition is paused,
/// so the broker, not this process, holds the backlog. The thread keeps polling while paused so
/// group membership and rebalances keep working.
/// </summary>
internal sealed class ConsumerWorker<TKey, TValue>
{
    private static readonly TimeSpan UnreachableProbeInterval = TimeSpan.FromSeconds(2);
    private static readonly TimeSpan LagRefreshInterval = TimeSpan.FromSeconds(2);
    private static readonly TimeSpan BrokerQueryTimeout = TimeSpan.FromMilliseconds(500);

    private readonly ConsumerSettings<TKey, TValue> _settings;
    private readonly Subscription _subscription;
    private readonly ILoggingAdapter _log;
    private readonly Action _dataAvailable;
    private readonly Action<Exception> _failed;
    private readonly TaskCompletionSource _shutdownCompleted;
    private readonly IConsumer<TKey, TValue> _consumer;
    private readonly Thread _thread;

    private readonly object _gate = new();
    private readonly Queue<(ConsumeResult<TKey, TValue> Record, CommittableOffset Offset)> _buffer = new();
    private bool _stageNotified;
    private bool _demandSeen;
    private bool _stopConsuming;
    private long _revokedUnfinished;
    private bool _workerWaitingForRoom;
    private DateTime? _fullSince;
    private volatile bool _shutdownRequested;
    private int _bufferHighWatermark;
    private long _consumed, _emitted, _pauses, _rebalances, _refillWakeups;
    private TopicPartition[] _assignedSnapshot = [];
    private TopicPartition[] _pausedSnapshot = [];
    private IReadOnlyDictionary<TopicPartition, long> _lagSnapshot = new Dictionary<TopicPartition, long>();

    // Poll-thread state.
    private readonly HashSet<TopicPartition> _assigned = new();
    private readonly Dictionary<TopicPartition, long> _groupCommitted = new();
    private bool _paused;
    private bool _assignmentChanged;
    private Error? _fatalError;
    private DateTime _lastProbe = DateTime.MinValue;
    private DateTime _lastLagRefresh = DateTime.MinValue;

    public ConsumerWorker(
        ConsumerSettings<TKey, TValue> settings,
        Subscription subscription,
        ILoggingAdapter log,
        Action dataAvailable,
        Action<Exception> failed,
        TaskCompletionSource shutdownCompleted)
    {
        _settings = settings;
        _subscription = subscription;
        _log = log;
        _dataAvailable = dataAvailable;
        _failed = failed;
        _shutdownCompleted = shutdownCompleted;
        _consumer = BuildConsumer();
        // With transactional commits, offsets reach the group inside the producer's transactions;
        // a commit through the consumer would be a second writer of the same offsets.
        Coordinator = settings.OffsetsCommittedByTransactions
            ? new CommitCoordinator(_ => { }, () => _consumer.ConsumerGroupMetadata)
            : new CommitCoordinator(offsets => _consumer.Commit(offsets));
        _thread = new Thread(Run) { IsBackground = true, Name = $"kafka-{settings.Name}" };
    }

    public CommitCoordinator Coordinator { get; }

    /// <summary>The buffered count at or below which a poll thread waiting for room is woken to refill the buffer.</summary>
    private int RefillAt => _settings.MaxBufferSize / 2;

    public void Start() => _thread.Start();

    // ---- called by the stage ----

    /// <summary>Takes the next buffered record, or arranges to be told when one arrives.</summary>
    public bool TryTake(out (ConsumeResult<TKey, TValue> Record, CommittableOffset Offset) item)
    {
        lock (_gate)
        {
            _demandSeen = true;
            if (_buffer.TryDequeue(out item))
            {
                _emitted++;
                if (_buffer.Count < _settings.MaxBufferSize) _fullSince = null;
                // Wake a poll thread waiting for room only once the buffer has drained to half, so it
                // refills it in one run instead of waking for every record taken (a thread wake-up on
                // both sides per record). Downstream never waits for it: half a buffer is still queued.
                if (_workerWaitingForRoom && _buffer.Count <= RefillAt)
                {
                    _workerWaitingForRoom = false;
                    _refillWakeups++;
                    Monitor.Pulse(_gate);
                }
                return true;
            }
            _stageNotified = false;
            return false;
        }
    }

    /// <summary>
    /// Stop fetching: partitions are paused, the buffer is dropped (those records were never
    /// emitted, so they are not committed, and no revocation waits for them).
    /// </summary>
    public void StopConsuming()
    {
        lock (_gate)
        {
            _stopConsuming = true;
            Coordinator.Abandon(_buffer.Select(item => item.Offset));
            _buffer.Clear();
            _fullSince = null;
            Monitor.Pulse(_gate);
        }
    }

    public void Shutdown()
    {
        _shutdownRequested = true;
        lock (_gate) Monitor.Pulse(_gate);
    }

    public ConsumerMetrics Metrics
    {
        get
        {
            lock (_gate)
                return new ConsumerMetrics(
                    _assignedSnapshot, _pausedSnapshot, _buffer.Count, _bufferHighWatermark, _pauses,
                    _consumed, _emitted, Coordinator.InFlight, Coordinator.Completed, Coordinator.Commits,
                    Coordinator.StaleCompletions, Coordinator.RevokedUncommitted, _rebalances, Coordinator.CommittedOffsets)
                {
                    Lag = _lagSnapshot,
                    RevokedUnfinished = Interlocked.Read(ref _revokedUnfinished),
                    RefillWakeups = _refillWakeups,
                };
        }
    }

    // ---- poll thread ----

    private IConsumer<TKey, TValue> BuildConsumer()
    {
        var builder = new ConsumerBuilder<TKey, TValue>(_settings.ToConfig())
            .SetPartitionsAssignedHandler((_, partitions) => OnAssigned(partitions))
            .SetPartitionsRevokedHandler((_, partitions) => OnRevoked(partitions.Select(p => p.TopicPartition).ToList()))
            .SetPartitionsLostHandler((_, partitions) => OnLost(partitions.Select(p => p.TopicPartition).ToList()))
            .SetErrorHandler((_, error) =>
            {
                _settings.Health.ReportError(_settings.Name, error);
                if (KafkaErrorDecider.Decide(error) == KafkaErrorAction.Stop) _fatalError = error;
            })
            .SetLogHandler((_, message) => LibrdkafkaLog.Write(message));
        if (_settings.KeyDeserializer is not null) builder.SetKeyDeserializer(_settings.KeyDeserializer);
        if (_settings.ValueDeserializer is not null) builder.SetValueDeserializer(_settings.ValueDeserializer);
        return builder.Build();
    }

    private void Run()
    {
        try
        {
            _consumer.Subscribe(_subscription.Topics);
            while (!_shutdownRequested)
            {
                if (_fatalError is { } fatal) throw new KafkaException(fatal);
                ApplyPause(ShouldPause());
                RefreshLag();
                if (!_paused && WaitWhileFull()) continue;

                ConsumeResult<TKey, TValue>? record;
                try
                {
                    record = _consumer.Consume(_settings.PollTimeout);
                }
                catch (ConsumeException e) when (KafkaErrorDecider.Decide(e.Error) != KafkaErrorAction.Stop)
                {
                    _settings.Health.ReportError(_settings.Name, e.Error);
                    continue;
                }
                if (record is null || record.IsPartitionEOF)
                {
                    ProbeWhileUnreachable();
                    continue;
                }
                _settings.Health.ReportReachable(_settings.Name);
                Enqueue(record);
            }
        }
        catch (Exception e)
        {
            _log.Error(e, "Kafka consumer {0} failed", _settings.Name);
            _failed(e);
        }
        finally
        {
            Close();
        }
    }

    private void Enqueue(ConsumeResult<TKey, TValue> record)
    {
        if (Coordinator.OnConsumed(record.TopicPartition, record.Offset.Value) is not { } offset) return;
        bool notify;
        lock (_gate)
        {
            _buffer.Enqueue((record, offset));
            _consumed++;
            _bufferHighWatermark = Math.Max(_bufferHighWatermark, _buffer.Count);
            if (_buffer.Count >= _settings.MaxBufferSize) _fullSince ??= DateTime.UtcNow;
            notify = !_stageNotified;
            _stageNotified = true;
        }
        if (notify) _dataAvailable();
    }

    /// <summary>
    /// Pause when downstream has not asked yet or the source stopped, or when the buffer has been
    /// full for <c>PauseAfter</c>; resume once it has drained to half. A buffer that is full only
    /// for a moment (downstream busy with a batch) is waited out without pausing, because
    /// librdkafka drops what it prefetched for a paused partition and fetches it again on resume.
    /// </summary>
    private bool ShouldPause()
    {
        lock (_gate)
        {
            if (_stopConsuming || !_demandSeen) return true;
            if (_paused) return _buffer.Count > _settings.MaxBufferSize / 2;
            return _fullSince is { } since && DateTime.UtcNow - since >= _settings.PauseAfter;
        }
    }

    /// <summary>
    /// While the buffer is full, stop taking records from librdkafka (its prefetch is bounded) and
    /// wait for downstream to drain it to half (<see cref="RefillAt"/>), at most until it is time to
    /// pause. Returns whether it waited.
    /// </summary>
    private bool WaitWhileFull()
    {
        lock (_gate)
        {
            if (_buffer.Count < _settings.MaxBufferSize || _fullSince is not { } since) return false;
            var remaining = since + _settings.PauseAfter - DateTime.UtcNow;
            if (remaining > TimeSpan.Zero)
            {
                _workerWaitingForRoom = true;
                Monitor.Wait(_gate, remaining);
                _workerWaitingForRoom = false;
            }
            return true;
        }
    }

    private void ApplyPause(bool pause)
    {
        if (pause && (!_paused || _assignmentChanged))
        {
            // Re-pausing after an assignment change covers partitions that were just assigned:
            // they start paused until there is demand.
            if (_assigned.Count > 0) _consumer.Pause(_assigned);
            if (!_paused)
                lock (_gate) _pauses++;
            _paused = true;
        }
        else if (!pause && (_paused || _assignmentChanged))
        {
            // Resuming after an assignment change too: librdkafka keeps a partition's pause across
            // its revocation, so a partition paused before a rebalance and assigned again after it
            // (while this consumer resumed with nothing assigned) would never be fetched.
            if (_assigned.Count > 0) _consumer.Resume(_assigned);
            _paused = false;
        }
        else return;
        _assignmentChanged = false;
        lock (_gate) _pausedSnapshot = _paused ? _assigned.ToArray() : [];
    }

    private void OnAssigned(List<TopicPartition> partitions)
    {
        Coordinator.OnAssigned(partitions);
        foreach (var tp in partitions)
        {
            _assigned.Add(tp);
            _groupCommitted.Remove(tp);
        }
        _assignmentChanged = true;
        lock (_gate)
        {
            _rebalances++;
            _assignedSnapshot = _assigned.ToArray();
        }
        _log.Info("Kafka consumer {0} assigned {1}", _settings.Name, string.Join(", ", partitions));
    }

    private void OnRevoked(List<TopicPartition> partitions)
    {
        var neverEmitted = DropBuffered(partitions);
        // A rebalance (not our own close, whose stream has drained already or will never finish):
        // let the records handed downstream finish, so they are committed rather than processed again.
        // That holds while the source drains after a stop too (a replica being retired while another
        // leaves the group): what it dropped from its buffer was abandoned, the rest will complete.
        if (!_shutdownRequested)
        {
            // What completed so far is committed first: a broker may refuse commits once the
            // rebalance moves on (the embedded one does while members rejoin), and then only the
            // records finished during the wait would come again, not everything since the last commit.
            Coordinator.CommitCompletedOf(partitions, _settings.CommitTimeout);
            var unfinished = Coordinator.AwaitInFlight(partitions, neverEmitted, _settings.RevokeDrainTimeout);
            Interlocked.Add(ref _revokedUnfinished, unfinished);
            if (unfinished > 0)
                _log.Warning("Kafka consumer {0}: {1} record(s) on revoked {2} did not finish within {3:0.#} s; the next owner processes them again",
                    _settings.Name, unfinished, string.Join(", ", partitions), _settings.RevokeDrainTimeout.TotalSeconds);
        }
        var (committed, uncommitted, error) = Coordinator.OnRevoked(partitions, _settings.CommitTimeout);
        if (error is not null)
            _log.Warning("Kafka consumer {0}: commit on revocation failed ({1})", _settings.Name, error.Message);
        _log.Info("Kafka consumer {0} revoked {1}: committed {2} partition(s); {3} uncommitted record(s) may be redelivered to the next owner",
            _settings.Name, string.Join(", ", partitions), committed, uncommitted);
    }

    private void OnLost(List<TopicPartition> partitions)
    {
        _ = DropBuffered(partitions);
        var uncommitted = Coordinator.OnLost(partitions);
        _log.Warning("Kafka consumer {0} lost {1}; {2} uncommitted record(s) may be redelivered",
            _settings.Name, string.Join(", ", partitions), uncommitted);
    }

    /// <summary>Forgets the partitions and drops their buffered records; returns how many were dropped per partition.</summary>
    private Dictionary<TopicPartition, int> DropBuffered(IReadOnlyCollection<TopicPartition> partitions)
    {
        foreach (var tp in partitions) _assigned.Remove(tp);
        _assignmentChanged = true;
        lock (_gate)
        {
            _assignedSnapshot = _assigned.ToArray();
            var keep = _buffer.Where(item => !partitions.Contains(item.Record.TopicPartition)).ToList();
            var dropped = _buffer.Where(item => partitions.Contains(item.Record.TopicPartition))
                .CountBy(item => item.Record.TopicPartition).ToDictionary();
            _buffer.Clear();
            foreach (var item in keep) _buffer.Enqueue(item);
            if (_buffer.Count < _settings.MaxBufferSize) _fullSince = null;
            return dropped;
        }
    }

    /// <summary>
    /// Consumer lag per assigned partition (end offset − committed offset), measured here because
    /// not every broker answers DescribeConsumerGroups (the embedded one does not). The end offset
    /// is librdkafka's cached high watermark, fresh with every fetch; a paused partition is not
    /// fetched, so its watermarks are asked of the broker (briefly, and not while it is unreachable).
    /// The committed offset is this consumer's own last commit; before its first commit, the first
    /// offset it consumed (all after it is uncommitted); before any record, the group's committed
    /// offset as the broker had it at assignment, else the low watermark (where a new group starts).
    /// Runs on the poll thread, which owns the consumer.
    /// </summary>
    private void RefreshLag()
    {
        if (DateTime.UtcNow - _lastLagRefresh < LagRefreshInterval) return;
        _lastLagRefresh = DateTime.UtcNow;
        var reachable = !_settings.Health.IsUnreachable(_settings.Name);
        var askBroker = _paused && reachable;
        var baselines = Coordinator.LagBaselines;
        var lag = new Dictionary<TopicPartition, long>();
        foreach (var tp in _assigned)
        {
            var watermarks = _consumer.GetWatermarkOffsets(tp);
            if (askBroker || (watermarks.Low.Value < 0 && reachable))
            {
                try
                {
                    watermarks = _consumer.QueryWatermarkOffsets(tp, BrokerQueryTimeout);
                }
                catch (KafkaException)
                {
                    askBroker = reachable = false;   // one slow answer is enough: keep cached values this round
                }
            }
            var from = baselines.TryGetValue(tp, out var offset) ? offset : GroupStart(tp, watermarks.Low.Value, reachable);
            if (watermarks.High.Value >= 0 && from >= 0) lag[tp] = Math.Max(0, watermarks.High.Value - from);
        }
        lock (_gate) _lagSnapshot = lag;
    }

    /// <summary>The group's committed offset of a partition this consumer has not consumed from yet, asked once per assignment.</summary>
    private long GroupStart(TopicPartition tp, long low, bool reachable)
    {
        if (!_groupCommitted.TryGetValue(tp, out var committed))
        {
            if (!reachable) return -1;
            try
            {
                committed = _consumer.Committed([tp], BrokerQueryTimeout)[0].Offset.Value;
                _groupCommitted[tp] = committed;
            }
            catch (KafkaException)
            {
                return -1;
            }
        }
        return committed >= 0 ? committed : low;
    }

    /// <summary>
    /// While this client is marked unreachable and no record arrives (an idle topic), ask the
    /// broker something cheap now and then, so recovery is noticed without traffic.
    /// </summary>
    private void ProbeWhileUnreachable()
    {
        if (!_settings.Health.IsUnreachable(_settings.Name) || _assigned.Count == 0) return;
        if (DateTime.UtcNow - _lastProbe < UnreachableProbeInterval) return;
        _lastProbe = DateTime.UtcNow;
        try
        {
            _consumer.QueryWatermarkOffsets(_assigned.First(), TimeSpan.FromSeconds(1));
            _settings.Health.ReportReachable(_settings.Name);
        }
        catch (KafkaException)
        {
            // Still unreachable; the outage stays reported.
        }
    }

    private void Close()
    {
        try
        {
            // Close leaves the group; the revocation it triggers commits what completed.
            _consumer.Close();
        }
        catch (Exception e)
        {
            _log.Warning("Kafka consumer {0} did not close cleanly: {1}", _settings.Name, e.Message);
        }
        finally
        {
            Coordinator.Close();
            _consumer.Dispose();
            lock (_gate)
            {
                _assignedSnapshot = [];
                _pausedSnapshot = [];
                _buffer.Clear();
            }
            _shutdownCompleted.TrySetResult();
        }
    }
}
