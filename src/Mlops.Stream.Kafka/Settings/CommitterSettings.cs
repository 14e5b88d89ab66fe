namespace Mlops.Stream.Kafka.Settings;

/// <summary>Immutable settings of the committer sink.</summary>
public sealed record CommitterSettings
{
    public static CommitterSettings Default { get; } = new();

    /// <summary>Commit after this many completed records. Default: 1000.</summary>
    public int MaxBatch { get; init; } = 1000;

    /// <summary>Commit at least this often while records complete. Default: 1 s.</summary>
    public TimeSpan MaxInterval { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>Wait before retrying a commit that failed for a transient reason. Default: 500 ms.</summary>
    public TimeSpan RetryBackoff { get; init; } = TimeSpan.FromMilliseconds(500);

    /// <summary>How long the final commit at the end of the stream keeps retrying. Default: 30 s.</summary>
    public TimeSpan DrainCommitTimeout { get; init; } = TimeSpan.FromSeconds(30);

    public CommitterSettings WithMaxBatch(int maxBatch) =>
        maxBatch > 0 ? this with { MaxBatch = maxBatch } : throw new ArgumentOutOfRangeException(nameof(maxBatch), "must be positive");
    public CommitterSettings WithMaxInterval(TimeSpan interval) => this with { MaxInterval = interval };
    public CommitterSettings WithRetryBackoff(TimeSpan backoff) => this with { RetryBackoff = backoff };
    public CommitterSettings WithDrainCommitTimeout(TimeSpan timeout) => this with { DrainCommitTimeout = timeout };
}
