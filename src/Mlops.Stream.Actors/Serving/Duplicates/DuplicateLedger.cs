namespace Mlops.Stream.Actors.Serving.Duplicates;

/// <summary>
/// Counts, exactly, the request records a replica answers that had already been answered: by the
/// node that owned the partition before and died (<c>kill -9</c>) or left without committing, or by
/// this replica under an earlier assignment. At-least-once delivery makes such duplicates; an
/// operator needs to know how many.
///
/// When a partition is (re)assigned, the first record consumed under the new assignment is where
/// redelivery starts. Once this replica's first answer under the new assignment is acknowledged,
/// the ledger asks the answer log, in the background, which records from there on already have an
/// answer by someone else, and counts each such record once when this replica's own answer to it
/// is acknowledged. Records answered while the log is being read are kept (bounded) and settled
/// when it has been read; a read that fails (a slow or unreachable broker) is tried again, with
/// backoff, for as long as the partition stays assigned. Nothing here delays the stream.
///
/// Why wait for that first acknowledgement rather than ask when the first record is consumed:
/// answers are acknowledged in the order they were sent, so by then every answer this stream sent
/// under the earlier assignment has landed in the log. Asked earlier, under slow or failing produce
/// requests, the log could be read before those in-flight answers land, and the records they
/// answered, redelivered now, would be answered again without being counted.
/// </summary>
public sealed class DuplicateLedger : IDisposable
{
    /// <summary>Answers kept while the log is read; a partition that answers more meanwhile is counted only in part (and says so).</summary>
    public const int MaxAnsweredWhileReading = 1_000_000;

    /// <summary>The longest wait between two attempts to read an answer log that failed.</summary>
    public static readonly TimeSpan MaxRetryDelay = TimeSpan.FromSeconds(30);

    private readonly AnswerTags _tags;
    private readonly IAnswerLog _log;
    private readonly Action<long> _countDuplicates;
    private readonly Action<string> _warn;
    private readonly TimeProvider _clock;
    private readonly TimeSpan _firstRetryDelay;
    private readonly Action<int> _checksChanged;
    /// <summary>Questions asked of the answer log and not settled yet (guarded by <c>_lock</c>).</summary>
    private int _openChecks;
    private bool _closedChecks;
    private readonly object _lock = new();
    private readonly Dictionary<int, PartitionLedger> _partitions = new();
    private readonly List<AnswerQuery> _pending = new();
    private readonly CancellationTokenSource _stopped = new();
    private Task _reading = Task.CompletedTask;
    private long _counted;

    /// <param name="firstRetryDelay">How long to wait before reading a log that failed again (doubling up to <see cref="MaxRetryDelay"/>); default 1 s.</param>
    /// <param name="checksChanged">Told +1 when a partition's question is asked of the answer log and -1 when it is settled or dropped.</param>
    public DuplicateLedger(AnswerTags tags, IAnswerLog log, Action<long> countDuplicates, Action<string> warn, TimeProvider? clock = null,
        TimeSpan? firstRetryDelay = null, Action<int>? checksChanged = null)
    {
        _checksChanged = checksChanged ?? (_ => { });
        _firstRetryDelay = firstRetryDelay ?? TimeSpan.FromSeconds(1);
        _tags = tags;
        _log = log;
        _countDuplicates = countDuplicates;
        _warn = warn;
        _clock = clock ?? TimeProvider.System;
    }

    /// <summary>Duplicates counted so far.</summary>
    public long Counted => Interlocked.Read(ref _counted);

    /// <summary>Partitions whose question to the answer log is not settled yet: their duplicates may still be counted.</summary>
    public int OpenChecks { get { lock (_lock) return _openChecks; } }

    /// <summary>Completes when every question asked so far has been answered by the log.</summary>
    public Task Settled { get { lock (_lock) return _reading; } }

    /// <summary>A record was consumed (called in consume order): the first of an assignment is where its question to the answer log starts.</summary>
    public void Consumed(int partition, long assignment, long offset, DateTimeOffset requestedAt)
    {
        lock (_lock)
        {
            if (_partitions.TryGetValue(partition, out var known) && known.Assignment == assignment) return;
            // A producer clock ahead of ours must not hide answers: never look for answers newer than now.
            var now = _clock.GetUtcNow();
            _partitions[partition] = new PartitionLedger(assignment,
                new AnswerQuery(partition, offset, requestedAt < now ? requestedAt : now, _tags.For(assignment)));
        }
    }

    /// <summary>This replica's answer to a record was acknowledged by Kafka (called in acknowledgement order): the first of an assignment asks the answer log.</summary>
    public void Answered(int partition, long assignment, long offset)
    {
        lock (_lock)
        {
            // An answer from an assignment that has been replaced was settled (or given up) with it.
            if (!_partitions.TryGetValue(partition, out var ledger) || ledger.Assignment != assignment) return;
            if (!ledger.Asked)
            {
                ledger.Asked = true;
                _pending.Add(ledger.Query);
                OpenCheck(+1);
                if (_reading.IsCompleted) _reading = Task.Run(ReadPendingAsync);
            }
            if (ledger.AnsweredBefore is { } answered)
            {
                if (answered.Count > 0 && answered.Remove(offset)) Count(1);
            }
            else if (ledger.AnsweredWhileReading.Count < MaxAnsweredWhileReading) ledger.AnsweredWhileReading.Add(offset);
            else ledger.Overflowed = true;
        }
    }

    private async Task ReadPendingAsync()
    {
        var retryDelay = _firstRetryDelay;
        while (true)
        {
            AnswerQuery[] queries;
            lock (_lock)
            {
                if (_pending.Count == 0) return;
                queries = [.. _pending];
                _pending.Clear();
            }
            IReadOnlyList<EarlierAnswers> found;
            try
            {
                found = await Task.Run(() => _log.Find(queries, _stopped.Token), _stopped.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (_stopped.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e)
            {
                // A slow or unreachable broker: ask again later (the answers stay in the log), for
                // the partitions this replica still holds; records answered meanwhile wait, bounded.
                var retry = StillAssigned(queries);
                _warn($"Could not read the earlier answers to partition(s) {string.Join(", ", queries.Select(q => q.Partition))}: {e.Message}. " +
                      (retry.Length > 0 ? $"Trying again in {retryDelay.TotalSeconds:0.#} s; duplicates there are counted then." : "Those partitions have moved on; nothing to count."));
                lock (_lock) _pending.InsertRange(0, retry);
                try
                {
                    await Task.Delay(retryDelay, _stopped.Token).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                    return;
                }
                retryDelay = TimeSpan.FromTicks(Math.Min(retryDelay.Ticks * 2, MaxRetryDelay.Ticks));
                continue;
            }
            retryDelay = _firstRetryDelay;
            for (var i = 0; i < queries.Length; i++) Settle(queries[i], found[i]);
        }
    }

    /// <summary>The queries whose partition is still held under the assignment that asked them.</summary>
    private AnswerQuery[] StillAssigned(IReadOnlyCollection<AnswerQuery> queries)
    {
        lock (_lock)
        {
            AnswerQuery[] held = [.. queries.Where(q => _partitions.TryGetValue(q.Partition, out var ledger) && q.AskerTag == _tags.For(ledger.Assignment))];
            OpenCheck(held.Length - queries.Count);
            return held;
        }
    }

    /// <summary>Under <c>_lock</c>.</summary>
    private void OpenCheck(int change)
    {
        // Once the ledger stopped, its open questions were all closed at once.
        if (change == 0 || _closedChecks) return;
        _openChecks += change;
        _checksChanged(change);
    }

    private void Settle(AnswerQuery query, EarlierAnswers earlier)
    {
        lock (_lock)
        {
            OpenCheck(-1);
            if (!_partitions.TryGetValue(query.Partition, out var ledger) || query.AskerTag != _tags.For(ledger.Assignment)) return;
            var answered = new HashSet<long>(earlier.Offsets);
            var duplicates = 0L;
            foreach (var offset in ledger.AnsweredWhileReading)
                if (answered.Remove(offset)) duplicates++;
            ledger.AnsweredWhileReading.Clear();
            ledger.AnsweredBefore = answered;
            Count(duplicates);
            if (earlier.Incomplete is not null || ledger.Overflowed)
                _warn($"Duplicates on partition {query.Partition} from offset {query.FromOffset} may be undercounted: " +
                      (earlier.Incomplete ?? $"more than {MaxAnsweredWhileReading:N0} records were answered while the earlier answers were read"));
        }
    }

    private void Count(long duplicates)
    {
        if (duplicates == 0) return;
        Interlocked.Add(ref _counted, duplicates);
        _countDuplicates(duplicates);
    }

    /// <summary>Stops reading the answer log (the stream ended); the token source is not disposed, a read may still be looking at it.</summary>
    public void Dispose()
    {
        _stopped.Cancel();
        // The open questions go with the stream: nothing is counted for them any more.
        lock (_lock)
        {
            OpenCheck(-_openChecks);
            _closedChecks = true;
        }
    }

    private sealed class PartitionLedger(long assignment, AnswerQuery query)
    {
        public long Assignment { get; } = assignment;
        /// <summary>What to ask the answer log: from the assignment's first consumed record on.</summary>
        public AnswerQuery Query { get; } = query;
        /// <summary>Whether <see cref="Query"/> has been asked (at the assignment's first acknowledged answer).</summary>
        public bool Asked { get; set; }
        /// <summary>Records from the start of this assignment that someone else answered and this replica has not answered yet; null until read.</summary>
        public HashSet<long>? AnsweredBefore { get; set; }
        public List<long> AnsweredWhileReading { get; } = new();
        public bool Overflowed { get; set; }
    }
}
