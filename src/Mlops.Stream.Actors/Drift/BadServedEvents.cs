using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;
using Mlops.Stream.Actors.Metrics;
using Mlops.Stream.Drift.Feedback;
using Mlops.Stream.Drift.Windows;

namespace Mlops.Stream.Actors.Drift;

/// <summary>
/// What a drift job does with a served event it cannot use (unreadable, a version without a
/// reference, ...) or a feedback record it cannot count (no id, an id never served, ...): counts it
/// by kind (<c>mlops_drift_bad_events_total</c>, <c>mlops_drift_bad_feedback_total</c>) and logs
/// the first of each kind with where it is, so a topic full of one bad kind is one log line, not
/// millions. The record itself is skipped (its offset is committed); the job goes on. One per drift
/// job, shared by its stream's restarts; thread-safe.
/// </summary>
public sealed class BadServedEvents(string model, DriftMetrics metrics, ILogger logger)
{
    private readonly ConcurrentDictionary<string, byte> _logged = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, byte> _loggedFeedback = new(StringComparer.Ordinal);

    public void Report(FeedbackFailure failure)
    {
        metrics.CountBadFeedback(model, failure.Code);
        if (_loggedFeedback.TryAdd(failure.Code, 0))
        {
            logger.LogWarning(
                "Drift job of {Model}: not counting feedback record at partition {Partition} offset {Offset}: {Code}: {Detail}. " +
                "Further records of this kind are only counted (mlops_drift_bad_feedback_total{{kind=\"{Code}\"}}).",
                model, failure.Partition, failure.Offset, failure.Code, failure.Detail, failure.Code);
        }
    }

    public void Report(ServedEventFailure failure)
    {
        metrics.CountBadEvent(model, failure.Code);
        if (_logged.TryAdd(failure.Code, 0))
        {
            logger.LogWarning(
                "Drift job of {Model}: skipping served event at partition {Partition} offset {Offset}: {Code}: {Detail}. " +
                "Further events of this kind are only counted (mlops_drift_bad_events_total{{kind=\"{Code}\"}}).",
                model, failure.Partition, failure.Offset, failure.Code, failure.Detail, failure.Code);
        }
    }
}
