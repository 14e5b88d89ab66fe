using Confluent.Kafka;
using Mlops.Stream.Kafka.Dsl;
using Mlops.Stream.Kafka.Settings;

namespace Mlops.Stream.Kafka.Internal;

/// <summary>
/// The consumed offsets one open transaction will commit: per consumer (its coordinator) and
/// partition, the next offset to read after the newest element, with the assignment it came from.
/// Filled on the producer stage's thread, then handed whole to <see cref="TransactionCycle{TKey,TValue}.Commit"/>.
/// </summary>
internal sealed class TransactionOffsets
{
    private readonly Dictionary<CommitCoordinator, Dictionary<TopicPartition, (long Next, long Epoch)>> _byConsumer = new();

    public void Add(in CommittableOffset offset)
    {
        if (!_byConsumer.TryGetValue(offset.Coordinator, out var partitions))
            _byConsumer[offset.Coordinator] = partitions = new Dictionary<TopicPartition, (long, long)>();
        if (!partitions.TryGetValue(offset.TopicPartition, out var known) || known.Next <= offset.Offset)
            partitions[offset.TopicPartition] = (offset.Offset + 1, offset.Epoch);
    }

    /// <summary>
    /// What to send per consumer, with its group metadata. Throws <see cref="StaleTransactionOffsetsException"/>
    /// when a partition has left its consumer since: the transaction must abort, not commit those
    /// records' outputs without their offsets.
    /// </summary>
    public IEnumerable<(IConsumerGroupMetadata Group, List<TopicPartitionOffset> Offsets)> ToSend() =>
        _byConsumer.Select(c => (
            c.Key.TransactionMetadataFor(c.Value.Select(p => (p.Key, p.Value.Epoch))),
            c.Value.Select(p => new TopicPartitionOffset(p.Key, p.Value.Next)).ToList()));
}

/// <summary>
/// The blocking transaction calls of one transactional producer, run off the stream's threads one
/// at a time: init (fences an earlier producer with the same transactional id and aborts what it
/// left open), then commit-and-begin-the-next, again and again, and abort on the way out.
/// </summary>
internal sealed class TransactionCycle<TKey, TValue>(IProducer<TKey, TValue> producer, TransactionSettings settings)
{
    private static readonly TimeSpan RetryPause = TimeSpan.FromMilliseconds(100);

    /// <summary>A transaction has begun and neither committed nor aborted yet.</summary>
    public bool Open { get; private set; }

    public long Committed { get; private set; }

    public void Start()
    {
        producer.InitTransactions(settings.OperationTimeout);
        producer.BeginTransaction();
        Open = true;
    }

    /// <summary>
    /// Sends the offsets into the open transaction, commits it and begins the next. The caller has
    /// produced nothing since taking <paramref name="offsets"/> and every record of the transaction
    /// is acknowledged. Retriable failures are retried within <c>OperationTimeout</c>; an abortable
    /// or fatal one is thrown (the caller fails its stream, which aborts).
    /// </summary>
    public void Commit(TransactionOffsets offsets)
    {
        var deadline = DateTime.UtcNow + settings.OperationTimeout;
        // Checked and read once, before the retries: the offsets go with the generation they were checked against.
        foreach (var (group, partitions) in offsets.ToSend().ToList())
            Retrying(() => producer.SendOffsetsToTransaction(partitions, group, Remaining(deadline)), deadline);
        Retrying(() => producer.CommitTransaction(Remaining(deadline)), deadline);
        Open = false;
        Committed++;
        producer.BeginTransaction();
        Open = true;
    }

    /// <summary>Aborts the open transaction, if any; its records are never seen by <c>read_committed</c> readers.</summary>
    public void Abort(TimeSpan timeout)
    {
        if (!Open) return;
        Open = false;
        producer.AbortTransaction(timeout);
    }

    private static void Retrying(Action call, DateTime deadline)
    {
        while (true)
        {
            try
            {
                call();
                return;
            }
            catch (KafkaRetriableException) when (DateTime.UtcNow + RetryPause < deadline)
            {
                Thread.Sleep(RetryPause);
            }
        }
    }

    private static TimeSpan Remaining(DateTime deadline)
    {
        var left = deadline - DateTime.UtcNow;
        return left > TimeSpan.FromSeconds(1) ? left : TimeSpan.FromSeconds(1);
    }
}
