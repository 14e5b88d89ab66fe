namespace Mlops.Stream.Kafka.Settings;

/// <summary>
/// Makes the producer flow transactional (exactly-once consume → produce): records are produced in
/// Kafka transactions, and each transaction also carries the consumed offsets of the elements whose
/// records it holds (<c>SendOffsetsToTransaction</c>), so outputs and offsets commit together or not
/// at all. Elements leave the flow only once their transaction has committed.
/// </summary>
public sealed record TransactionSettings
{
    public TransactionSettings(string transactionalId)
    {
        if (string.IsNullOrWhiteSpace(transactionalId))
            throw new ArgumentException("A transactional id is required.", nameof(transactionalId));
        TransactionalId = transactionalId;
    }

    /// <summary>
    /// The producer's <c>transactional.id</c>. Keep it stable for one logical writer (a model
    /// replica): a new producer with the same id fences the previous one (a zombie left behind by a
    /// crash or a partition) and aborts whatever transaction it left open.
    /// </summary>
    public string TransactionalId { get; init; }

    /// <summary>
    /// A transaction is committed at least this often while elements arrive. Shorter costs more
    /// broker round trips; longer delays every answer (it is not readable by <c>read_committed</c>
    /// consumers before its commit). Default: 100 ms.
    /// </summary>
    public TimeSpan CommitInterval { get; init; } = TimeSpan.FromMilliseconds(100);

    /// <summary>Elements in one transaction at most; reaching it commits at once. Default: 1000.</summary>
    public int MaxElements { get; init; } = 1000;

    /// <summary>Upper bound of one blocking transaction call (init, offsets, commit, abort). Default: 30 s.</summary>
    public TimeSpan OperationTimeout { get; init; } = TimeSpan.FromSeconds(30);
}
