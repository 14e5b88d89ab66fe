namespace Mlops.Stream.Drift.Feedback;

/// <summary>
/// The bounds of the join of labels to served events (<see cref="FeedbackJoin{TContext}"/>): how
/// many served events' predictions are kept for labels to come, how many labels that came before
/// their event may wait for it, and for how long. Invalid values are refused when set.
/// </summary>
public sealed record FeedbackJoinOptions
{
    /// <summary>50,000 served events, 10,000 waiting labels, 5 minutes.</summary>
    public static FeedbackJoinOptions Default { get; } = new();

    /// <summary>
    /// Served events whose predictions are kept for their label, the most recent ones: the join
    /// window in events. A label for an older event is unmatched (<c>unknown_id</c>). At least 1.
    /// </summary>
    public int MaxServed { get; init => field = value >= 1 ? value : throw new ArgumentOutOfRangeException(nameof(MaxServed), value, "MaxServed must be at least 1"); } = 50_000;

    /// <summary>Labels read before their served event that may wait for it; beyond, the oldest is unmatched. At least 1.</summary>
    public int MaxWaitingLabels { get; init => field = value >= 1 ? value : throw new ArgumentOutOfRangeException(nameof(MaxWaitingLabels), value, "MaxWaitingLabels must be at least 1"); } = 10_000;

    /// <summary>How long (by the job's clock) a label waits for its served event before it is unmatched. Positive.</summary>
    public TimeSpan LabelWait { get; init => field = value > TimeSpan.Zero ? value : throw new ArgumentOutOfRangeException(nameof(LabelWait), value, "LabelWait must be positive"); } = TimeSpan.FromMinutes(5);
}
