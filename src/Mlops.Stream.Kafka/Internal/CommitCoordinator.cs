using Confluent.Kafka;
using Mlops.Stream.Kafka.Dsl;
using Mlops.Stream.Kafka.Supervision;

namespace Mlops.Stream.Kafka.Internal;

/// <summary>What one commit attempt achieved.</summary>
internal readonly record struct CommitOutcome(int Partitions, Error? Error, CommitErrorAction Action)
{
    public static CommitOutcome Nothing => new(0, null, CommitErrorAction.Retry);
    public bool Succeeded => Error is null;
}

/// <summary>
/// Tracks, per assigned partition, which consumed records are still being worked on and which
/// completed, and commits only up to the first record that has not completed ("never commit past
/// unfinished work"), whatever order completions arrive in. One per consumer.
///
/// Threads: the consumer's poll thread reports assignments and consumed records; the committer
/// stage reports completions and asks for commits. Every field is guarded by <c>_lock</c>; the
/// commit itself runs outside it, one at a time (<c>_commitGate</c>) so two commits of the same
/// partition cannot overtake each other and move an offset backwards.
/// </summary>
internal sealed class CommitCoordinator
{
    private sealed class PartitionProgress(long epoch)
    {
        public readonly long Epoch = epoch;
        /// <summary>Offsets consumed and not yet completed, ascending.</summary>
        public readonly Queue<long> InFlight = new();
        /// <summary>Completed while an earlier offset of the partition is still in flight.</summary>
        public HashSet<long>? CompletedAhead;
        /// <summary>The offset a commit would write now: last contiguous completed + 1.</summary>
        public long Committable = -1;
        public long Committed = -1;
        /// <summary>The first offset consumed under this assignment.</summary>
        public long FirstConsumed = -1;

        /// <summary>Records consumed under this assignment that a commit has not covered yet.</summary>
        public long Uncommitted(bool includeCompleted)
        {
            var completed = Committable < 0 ? 0 : Committable - Math.Max(Committed, FirstConsumed);
            return InFlight.Count + (includeCompleted ? Math.Max(0, completed) : 0);
        }
    }

    private readonly object _lock = new();
    private readonly Dictionary<TopicPartition, PartitionProgress> _partitions = new();
    private readonly SemaphoreSlim _commitGate = new(1, 1);
    private readonly Action<IReadOnlyList<TopicPartitionOffset>> _commitSync;
    private readonly Func<IConsumerGroupMetadata>? _readGroupMetadata;
    /// <summary>The group metadata as of the latest assignment, read on the poll thread (never from another thread: the consumer may be disposed by then).</summary>
    private IConsumerGroupMetadata? _groupMetadata;
    private long _lastEpoch;
    private bool _closed;
    /// <summary>Revocations waiting in <see cref="AwaitInFlight"/> for completions (which then wake them).</summary>
    private int _drainWaiters;
    private long _completed, _staleCompletions, _commits, _revokedUncommitted, _notAssigned;

    /// <param name="commitSync">Commits offsets through the consumer.</param>
    /// <param name="readGroupMetadata">Reads the consumer's group metadata (on the poll thread, at each
    /// assignment), which a transactional producer sends with the offsets it commits for this consumer:
    /// its generation fences the commits of a member that has since lost its partitions.</param>
    public CommitCoordinator(Action<IReadOnlyList<TopicPartitionOffset>> commitSync, Func<IConsumerGroupMetadata>? readGroupMetadata = null)
    {
        _commitSync = commitSync;
        _readGroupMetadata = readGroupMetadata;
    }

    /// <summary>
    /// For a transaction about to commit these partitions' offsets: the group metadata of the
    /// assignment they were consumed under. Throws <see cref="StaleTransactionOffsetsException"/> when
    /// any of them is no longer this consumer's under that assignment (revoked, lost, or the consumer
    /// closed): the transaction must then abort, for its outputs would be committed without their
    /// offsets and the partition's next owner would answer the same records again. Checked and read
    /// under one lock, so the metadata is the generation the check was made against; if the group
    /// moves on after this, the broker refuses the stale generation and the transaction aborts too.
    /// </summary>
    public IConsumerGroupMetadata TransactionMetadataFor(IEnumerable<(TopicPartition Partition, long Epoch)> partitions)
    {
        lock (_lock)
        {
            var stale = partitions
                .Where(p => _closed || !_partitions.TryGetValue(p.Partition, out var progress) || progress.Epoch != p.Epoch)
                .Select(p => p.Partition)
                .ToList();
            if (stale.Count > 0) throw new StaleTransactionOffsetsException(stale);
            return _groupMetadata ?? throw new InvalidOperationException("This consumer's offsets cannot be committed in a transaction.");
        }
    }

    public long Completed { get { lock (_lock) return _completed; } }
    public long StaleCompletions { get { lock (_lock) return _staleCompletions; } }
    public long Commits { get { lock (_lock) return _commits; } }
    /// <summary>Records consumed but not committed when their partition was revoked or lost: the most that can be redelivered.</summary>
    public long RevokedUncommitted { get { lock (_lock) return _revokedUncommitted; } }

    public int InFlight
    {
        get { lock (_lock) return _partitions.Values.Sum(p => p.InFlight.Count); }
    }

    public IReadOnlyDictionary<TopicPartition, long> CommittedOffsets
    {
        get
        {
            lock (_lock)
                return _partitions.Where(p => p.Value.Committed >= 0)
                    .ToDictionary(p => p.Key, p => p.Value.Committed);
        }
    }

    /// <summary>
    /// Per partition, the offset lag is counted from: the committed offset, or before the first
    /// commit of this assignment, the first offset consumed (everything from there is uncommitted).
    /// </summary>
    public IReadOnlyDictionary<TopicPartition, long> LagBaselines
    {
        get
        {
            lock (_lock)
                return _partitions.Where(p => p.Value.Committed >= 0 || p.Value.FirstConsumed >= 0)
                    .ToDictionary(p => p.Key, p => p.Value.Committed >= 0 ? p.Value.Committed : p.Value.FirstConsumed);
        }
    }

    // ---- poll thread ----

    public void OnAssigned(IEnumerable<TopicPartition> partitions)
    {
        // Read here, on the poll thread inside the assignment callback: the generation just joined.
        var metadata = _readGroupMetadata?.Invoke();
        lock (_lock)
        {
            foreach (var tp in partitions)
                _partitions[tp] = new PartitionProgress(++_lastEpoch);
            if (metadata is not null) _groupMetadata = metadata;
        }
    }

    /// <summary>
    /// Registers a consumed record and returns its context, or null when its partition is not
    /// assigned to this consumer (a record fetched before a revocation that librdkafka still
    /// handed out): such a record belongs to the partition's next owner and must not be processed here.
    /// </summary>
    public CommittableOffset? OnConsumed(TopicPartition tp, long offset)
    {
        lock (_lock)
        {
            if (!_partitions.TryGetValue(tp, out var progress))
            {
                _notAssigned++;
                return null;
            }
            progress.InFlight.Enqueue(offset);
            if (progress.FirstConsumed < 0) progress.FirstConsumed = offset;
            return new CommittableOffset(this, tp, offset, progress.Epoch);
        }
    }

    /// <summary>
    /// Consumed records that will never be handed downstream (the source stopped and dropped its
    /// buffer): they are no longer in flight, so a revocation does not wait for them, and being the
    /// newest of their partitions they hold back no commit of the records before them.
    /// </summary>
    public void Abandon(IEnumerable<CommittableOffset> offsets)
    {
        lock (_lock)
        {
            foreach (var group in offsets.GroupBy(o => o.TopicPartition))
            {
                if (!_partitions.TryGetValue(group.Key, out var progress)) continue;
                var abandoned = group.Where(o => o.Epoch == progress.Epoch).Select(o => o.Offset).ToHashSet();
                if (abandoned.Count == 0) continue;
                var kept = progress.InFlight.Where(o => !abandoned.Contains(o)).ToList();
                progress.InFlight.Clear();
                foreach (var offset in kept) progress.InFlight.Enqueue(offset);
            }
            if (_drainWaiters > 0) Monitor.PulseAll(_lock);
        }
    }

    /// <summary>Records dropped because their partition was no longer assigned when they arrived.</summary>
    public long NotAssigned { get { lock (_lock) return _notAssigned; } }

    /// <summary>
    /// Partitions are about to be taken away from this live consumer: waits, at most
    /// <paramref name="timeout"/>, until every record handed downstream on them has completed, so the
    /// commit that follows covers them and the next owner does not process them again. Records
    /// consumed but never handed downstream (<paramref name="neverEmitted"/> per partition, dropped
    /// from the buffer) never complete and are not waited for. Returns how many were still in flight.
    /// </summary>
    public long AwaitInFlight(IReadOnlyCollection<TopicPartition> partitions, IReadOnlyDictionary<TopicPartition, int> neverEmitted, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        lock (_lock)
        {
            _drainWaiters++;
            try
            {
                while (true)
                {
                    var waiting = partitions.Sum(tp => _partitions.TryGetValue(tp, out var p)
                        ? Math.Max(0, p.InFlight.Count - neverEmitted.GetValueOrDefault(tp)) : 0);
                    var remaining = deadline - DateTime.UtcNow;
                    if (waiting == 0 || _closed || remaining <= TimeSpan.Zero) return waiting;
                    Monitor.Wait(_lock, remaining);
                }
            }
            finally
            {
                _drainWaiters--;
            }
        }
    }

    /// <summary>
    /// Commits what completed on the partitions (synchronously, on the poll thread, inside a
    /// revocation); a refused commit is left to the commit that ends the revocation.
    /// </summary>
    public void CommitCompletedOf(IReadOnlyCollection<TopicPartition> partitions, TimeSpan timeout)
    {
        if (!_commitGate.Wait(timeout)) return;
        try
        {
            CommitCompletedHoldingGate(partitions);
        }
        finally
        {
            _commitGate.Release();
        }
    }

    /// <summary>
    /// Partitions are being taken away: commit what completed on them (synchronously, inside the
    /// rebalance callback, as Kafka requires) and forget them. Records still in flight are not
    /// committed; the new owner will process them again. Returns how many records the new owner
    /// may see again: those in flight, plus the completed ones if the commit failed (a broker
    /// may refuse commits once the rebalance has begun).
    /// </summary>
    public (int Committed, long Uncommitted, Exception? Error) OnRevoked(IReadOnlyCollection<TopicPartition> partitions, TimeSpan timeout)
    {
        var gateTaken = _commitGate.Wait(timeout);
        try
        {
            List<TopicPartitionOffset> offsets;
            List<PartitionProgress> revoked;
            lock (_lock)
            {
                // Commit every completed position again, even one we believe committed: the next
                // owner starts from here, and re-committing the same offset is harmless.
                offsets = partitions
                    .Where(tp => _partitions.TryGetValue(tp, out var p) && p.Committable >= 0)
                    .Select(tp => new TopicPartitionOffset(tp, _partitions[tp].Committable))
                    .ToList();
                revoked = partitions.Select(tp => _partitions.Remove(tp, out var p) ? p : null).OfType<PartitionProgress>().ToList();
            }
            Exception? error = null;
            if (offsets.Count > 0 && !_closed)
            {
                try
                {
                    _commitSync(offsets);
                }
                catch (KafkaException e)
                {
                    error = e;
                }
            }
            var uncommitted = revoked.Sum(p => p.Uncommitted(includeCompleted: error is not null));
            lock (_lock)
            {
                _revokedUncommitted += uncommitted;
                if (error is null && offsets.Count > 0) _commits++;
            }
            return (error is null ? offsets.Count : 0, uncommitted, error);
        }
        finally
        {
            if (gateTaken) _commitGate.Release();
        }
    }

    /// <summary>Partitions lost without a clean revocation: their offsets can no longer be committed.</summary>
    public long OnLost(IEnumerable<TopicPartition> partitions)
    {
        lock (_lock)
        {
            long uncommitted = 0;
            foreach (var tp in partitions)
                if (_partitions.Remove(tp, out var progress)) uncommitted += progress.Uncommitted(includeCompleted: true);
            _revokedUncommitted += uncommitted;
            return uncommitted;
        }
    }

    /// <summary>The consumer is closing: no further commits can be made through it.</summary>
    public void Close()
    {
        lock (_lock)
        {
            _closed = true;
            Monitor.PulseAll(_lock);
        }
    }

    // ---- committer stage ----

    public void MarkCompleted(in CommittableOffset offset)
    {
        lock (_lock)
        {
            if (!_partitions.TryGetValue(offset.TopicPartition, out var progress) || progress.Epoch != offset.Epoch)
            {
                _staleCompletions++;
                return;
            }
            var queue = progress.InFlight;
            if (queue.Count > 0 && queue.Peek() == offset.Offset)
            {
                progress.Committable = queue.Dequeue() + 1;
                while (queue.Count > 0 && progress.CompletedAhead is { Count: > 0 } ahead && ahead.Remove(queue.Peek()))
                    progress.Committable = queue.Dequeue() + 1;
                _completed++;
            }
            else if (queue.Contains(offset.Offset))
            {
                (progress.CompletedAhead ??= new HashSet<long>()).Add(offset.Offset);
                _completed++;
            }
            // Otherwise the offset was completed twice; nothing to do.
            if (_drainWaiters > 0) Monitor.PulseAll(_lock);
        }
    }

    /// <summary>Commits every partition's completed prefix that is not committed yet.</summary>
    public async Task<CommitOutcome> CommitCompletedAsync()
    {
        await _commitGate.WaitAsync().ConfigureAwait(false);
        try
        {
            // librdkafka's synchronous commit blocks for a broker round trip: keep it off the stream's threads.
            return await Task.Run(() => CommitCompletedHoldingGate(null)).ConfigureAwait(false);
        }
        finally
        {
            _commitGate.Release();
        }
    }

    /// <summary>Commits the completed prefix of <paramref name="partitions"/> (every assigned one when null); the caller holds <c>_commitGate</c>.</summary>
    private CommitOutcome CommitCompletedHoldingGate(IReadOnlyCollection<TopicPartition>? partitions)
    {
        List<(TopicPartition Partition, long Offset, long Epoch)> batch;
        lock (_lock)
        {
            if (_closed) return CommitOutcome.Nothing;
            batch = CollectCommittable(partitions ?? _partitions.Keys);
        }
        if (batch.Count == 0) return CommitOutcome.Nothing;

        try
        {
            _commitSync([.. batch.Select(c => new TopicPartitionOffset(c.Partition, c.Offset))]);
        }
        catch (TopicPartitionOffsetException e)
        {
            // Some partitions may have succeeded; record those and report the first failure.
            var succeeded = e.Results.Where(r => !r.Error.IsError).Select(r => r.TopicPartition).ToHashSet();
            MarkCommitted(batch.Where(c => succeeded.Contains(c.Partition)));
            var failure = e.Results.First(r => r.Error.IsError).Error;
            return new CommitOutcome(succeeded.Count, failure, KafkaErrorDecider.DecideCommit(failure));
        }
        catch (KafkaException e)
        {
            return new CommitOutcome(0, e.Error, KafkaErrorDecider.DecideCommit(e.Error));
        }
        catch (ObjectDisposedException)
        {
            // The consumer closed between collecting and committing; its close committed what it could.
            return CommitOutcome.Nothing;
        }
        MarkCommitted(batch);
        return new CommitOutcome(batch.Count, null, CommitErrorAction.Retry);
    }

    private List<(TopicPartition Partition, long Offset, long Epoch)> CollectCommittable(IEnumerable<TopicPartition> partitions)
    {
        var batch = new List<(TopicPartition, long, long)>();
        foreach (var tp in partitions)
            if (_partitions.TryGetValue(tp, out var progress) && progress.Committable > progress.Committed)
                batch.Add((tp, progress.Committable, progress.Epoch));
        return batch;
    }

    private void MarkCommitted(IEnumerable<(TopicPartition Partition, long Offset, long Epoch)> committed)
    {
        lock (_lock)
        {
            _commits++;
            foreach (var (tp, offset, epoch) in committed)
                if (_partitions.TryGetValue(tp, out var progress) && progress.Epoch == epoch)
                    progress.Committed = Math.Max(progress.Committed, offset);
        }
    }
}

/// <summary>
/// A transaction held records of partitions its consumer no longer owns under the same assignment:
/// it is aborted rather than committed without their offsets.
/// </summary>
public sealed class StaleTransactionOffsetsException(IReadOnlyList<TopicPartition> partitions)
    : Exception($"The transaction holds records of {string.Join(", ", partitions)}, which this consumer no longer owns; " +
                "it is aborted so that the partitions' next owner answers them once")
{
    public IReadOnlyList<TopicPartition> Partitions { get; } = partitions;
}
