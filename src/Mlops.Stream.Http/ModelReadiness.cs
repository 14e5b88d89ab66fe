using Mlops.Stream.Inference.Gateway;

namespace Mlops.Stream.Http;

/// <summary>
/// The one rule for "the models are ready", shared by <c>/v2/health/ready</c> and
/// <c>/healthz/ready</c>: every model with a production version is loaded, warmed and serving, and
/// its Kafka stream is not failing again and again. Models without one (registered, never
/// promoted, or undeployed) do not count.
/// </summary>
public static class ModelReadiness
{
    /// <summary>"name (state: reason)" for each production model not serving; empty when all are.</summary>
    public static IReadOnlyList<string> Unready(IEnumerable<ModelStatus> models) =>
        models.Where(m => m.ProductionVersion is not null)
            .Select(Problem)
            .OfType<string>()
            .ToList();

    private static string? Problem(ModelStatus m)
    {
        if (m.State != ReplicaState.Ready || m.ServingVersion is null)
            return $"{m.Name} ({ModelStates.ToWireName(m.State)}{(m.Reason is null ? "" : ": " + m.Reason)})";
        if (m.KafkaStream is { FailingRepeatedly: true } stream)
            return $"{m.Name} (kafka stream failing, {stream.ConsecutiveFailures} times in a row: {stream.LastFailure})";
        return null;
    }
}
