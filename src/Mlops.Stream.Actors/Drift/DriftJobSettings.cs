using Mlops.Stream.Drift;
using Mlops.Stream.Drift.Feedback;
using Mlops.Stream.Drift.Windows;
using Mlops.Stream.Kafka;

namespace Mlops.Stream.Actors.Drift;

/// <summary>How the drift jobs reach Kafka: the node's bootstrap address, health monitor and client properties.</summary>
public sealed record DriftKafkaSettings(
    string BootstrapServers,
    KafkaHealthMonitor Health,
    IReadOnlyDictionary<string, string> ConsumerProperties,
    IReadOnlyDictionary<string, string> ProducerProperties);

/// <summary>
/// How every model's drift job runs: when windows close, the statistics' thresholds, when a quiet
/// stream's windows are closed by the clock, and how a failed stream is restarted. Immutable; the
/// host builds it from the <c>Drift</c> configuration section.
/// </summary>
public sealed record DriftJobSettings
{
    public static DriftJobSettings Default { get; } = new();

    /// <summary>When a window closes (default 1,000 events or 5 minutes of served time).</summary>
    public WindowOptions Windows { get; init; } = WindowOptions.Default;

    /// <summary>The statistics' thresholds and method overrides.</summary>
    public DriftOptions Statistics { get; init; } = DriftOptions.Default;

    /// <summary>The bounds of the join of feedback labels to served events (default 50,000 events, 10,000 waiting labels, 5 minutes).</summary>
    public FeedbackJoinOptions Feedback { get; init; } = FeedbackJoinOptions.Default;

    /// <summary>
    /// After this long without a served event the job counts itself caught up and closes, by the
    /// clock, windows whose span has passed: a quiet stream's events cannot do it themselves. Long
    /// enough that a slow fetch while reading a backlog (events older than the clock) does not cut
    /// windows short. Default: 5 s, or the window span when that is shorter.
    /// </summary>
    public TimeSpan IdleAfter { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>Wait before starting a failed stream again; doubled after each failure in a row, up to <see cref="MaxRestartAfter"/>.</summary>
    public TimeSpan RestartAfter { get; init; } = TimeSpan.FromSeconds(2);

    /// <summary>The longest wait between restarts of a stream that keeps failing.</summary>
    public TimeSpan MaxRestartAfter { get; init; } = TimeSpan.FromSeconds(60);

    /// <summary>A stream that ran this long before failing is restarted after <see cref="RestartAfter"/> again.</summary>
    public TimeSpan StableAfter { get; init; } = TimeSpan.FromMinutes(1);

    /// <summary>
    /// How long a version the registry did not know (or could not read) stays unknown before it is
    /// looked up again, so a flood of events of an unregistered version is not a flood of registry reads.
    /// </summary>
    public TimeSpan RetryUnknownVersionAfter { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// How often a known version's reference sample is looked up again, so a baseline set while the
    /// job runs (<c>mlops drift baseline</c>) is used from the version's next window after it.
    /// </summary>
    public TimeSpan RefreshReferenceAfter { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>The idle time actually used: <see cref="IdleAfter"/>, at most the window span.</summary>
    internal TimeSpan IdleTick => IdleAfter < Windows.MaxSpan ? IdleAfter : Windows.MaxSpan;
}
