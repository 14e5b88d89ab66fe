using Mlops.Stream.Actors.Serving;

namespace Mlops.Stream.Http;

/// <summary>
/// The one rule for "the models are ready", shared by <c>/v2/health/ready</c> and
/// <c>/healthz/ready</c>: every model with a production version is loaded, warmed and serving.
/// Models without one (registered, never promoted, or undeployed) do not count.
/// </summary>
public static class ModelReadiness
{
    /// <summary>"name (state: reason)" for each production model not serving; empty when all are.</summary>
    public static IReadOnlyList<string> Unready(IEnumerable<ModelStatus> models) =>
        models.Where(m => m.ProductionVersion is not null && (m.State != ReplicaState.Ready || m.ServingVersion is null))
            .Select(m => $"{m.Name} ({ModelStates.ToWireName(m.State)}{(m.Reason is null ? "" : ": " + m.Reason)})")
            .ToList();
}
