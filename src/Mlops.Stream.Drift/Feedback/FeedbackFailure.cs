namespace Mlops.Stream.Drift.Feedback;

/// <summary>Why a feedback record was not counted. Each has a stable snake_case <see cref="FeedbackFailure.Code"/>.</summary>
public enum FeedbackFailureReason
{
    /// <summary>Not JSON, or not a JSON object.</summary>
    Unreadable,

    /// <summary>No "id", or one that is not a non-empty string.</summary>
    MissingId,

    /// <summary>
    /// No "label", or one that names no class of the model: not a class index (0 to classes-1),
    /// a class name of the manifest's labels or true/false, or, for an event of several rows, not
    /// one such label per row.
    /// </summary>
    BadLabel,

    /// <summary>
    /// No served event with the id was seen while the label waited (<see cref="FeedbackJoinOptions.LabelWait"/>),
    /// or more labels were waiting than <see cref="FeedbackJoinOptions.MaxWaitingLabels"/> and it was the oldest.
    /// </summary>
    UnknownId,

    /// <summary>Its version's open window already held as many labelled rows as a window holds rows (<c>WindowOptions.MaxRows</c>).</summary>
    WindowFull,

    /// <summary>A later label for the same request id arrived while this one waited for its event; the later one counts.</summary>
    Superseded,
}

/// <summary>A feedback record the job could not count, with where it was, so it is counted and logged once per kind.</summary>
/// <param name="Reason">What was wrong.</param>
/// <param name="Detail">A human sentence for the log.</param>
/// <param name="Partition">Partition of the feedback record.</param>
/// <param name="Offset">Offset of the feedback record.</param>
public sealed record FeedbackFailure(FeedbackFailureReason Reason, string Detail, int Partition, long Offset)
{
    /// <summary>The reason in snake_case, e.g. <c>unknown_id</c>, for metrics labels and logs.</summary>
    public string Code => CodeOf(Reason);

    public static string CodeOf(FeedbackFailureReason reason) => reason switch
    {
        FeedbackFailureReason.Unreadable => "unreadable",
        FeedbackFailureReason.MissingId => "missing_id",
        FeedbackFailureReason.BadLabel => "bad_label",
        FeedbackFailureReason.UnknownId => "unknown_id",
        FeedbackFailureReason.WindowFull => "window_full",
        FeedbackFailureReason.Superseded => "superseded",
        _ => "unknown",
    };
}
