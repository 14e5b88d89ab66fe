using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Logging;

namespace Mlops.Stream.Http;

/// <summary>
/// Logs the node's readiness when it changes, once per change, with the reasons: "not ready yet"
/// (Information) while it starts and joins its cluster, "ready" (Information), and "no longer ready"
/// (Warning) when it was ready before. ASP.NET Core's health-check service instead logs every
/// failing check of every probe at Error, so a node still joining its cluster filled its log with
/// errors; those per-probe lines are off by default (<c>appsettings.json</c>, category
/// <c>Microsoft.Extensions.Diagnostics.HealthChecks</c>).
/// </summary>
public sealed class ReadinessLog(ILogger logger)
{
    private readonly object _gate = new();
    private bool? _ready;
    private bool _wasEverReady;

    public void Observe(HealthReport report)
    {
        var ready = report.Status != HealthStatus.Unhealthy;
        lock (_gate)
        {
            if (_ready == ready) return;
            _ready = ready;
            if (ready)
            {
                _wasEverReady = true;
                if (report.Status == HealthStatus.Degraded) logger.LogInformation("Node ready, degraded: {Reasons}", Reasons(report, HealthStatus.Degraded));
                else logger.LogInformation("Node ready: every readiness check passes");
                return;
            }

            var reasons = Reasons(report, HealthStatus.Unhealthy);
            if (_wasEverReady) logger.LogWarning("Node no longer ready: {Reasons}", reasons);
            else logger.LogInformation("Node not ready yet: {Reasons}", reasons);
        }
    }

    private static string Reasons(HealthReport report, HealthStatus status) =>
        string.Join("; ", report.Entries.Where(e => e.Value.Status == status)
            .Select(e => $"{e.Key}: {e.Value.Description ?? e.Value.Exception?.Message ?? status.ToString()}"));
}
