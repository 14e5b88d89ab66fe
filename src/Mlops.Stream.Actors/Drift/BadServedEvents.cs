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

    public void Report(ServedEventFailure failure)
    {
        metrics.CountBadEvent(model, failure.Code);
        LogFirst(_logged, "served event", failure.Code, failure.Partition, failure.Offset, failure.Detail, "mlops_drift_bad_events_total");
    }

    public void Report(FeedbackFailure failure)
    {
        metrics.CountBadFeedback(model, failure.Code);
        LogFirst(_loggedFeedback, "feedback record", failure.Code, failure.Partition, failure.Offset, failure.Detail, "mlops_drift_bad_feedback_total");
    }

    private void LogFirst(ConcurrentDictionary<string, byte> logged, string record, string code, int partition, long offset, string detail, string counter)
    {
        if (logged.TryAdd(code, 0))
        {
            logger.LogWarning(
                "Drift job of {Model}: skipping {Record} at partition {Partition} offset {Offset}: {Code}: {Detail}. " +
                "Further records of this kind are only counted ({Counter}{{kind=\"{Code}\"}}).",
                model, record, partition, offset, code, detail, counter, code);
        }
    }
}
