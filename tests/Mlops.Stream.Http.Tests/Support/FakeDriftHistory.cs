namespace Mlops.Stream.Http.Tests.Support;

/// <summary>
/// A drift topic in memory: the records a test adds, oldest first, read back from the end like
/// the Kafka history reads them; <see cref="Unavailable"/> makes it fail like a broker that does not answer.
/// </summary>
internal sealed class FakeDriftHistory : IDriftHistory
{
    public List<DriftWindowRecord> Records { get; } = [];

    public bool Unavailable { get; set; }

    public int LastScan { get; private set; }

    public Task<IReadOnlyList<DriftWindowRecord>> RecentAsync(string model, int scan, CancellationToken cancellationToken)
    {
        LastScan = scan;
        return Unavailable
            ? throw new BrokerUnavailableException("Kafka did not answer")
            : Task.FromResult<IReadOnlyList<DriftWindowRecord>>([.. Records.TakeLast(scan)]);
    }
}
