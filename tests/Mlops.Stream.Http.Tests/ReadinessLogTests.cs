using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Logging;
using Mlops.Stream.Http.Tests.Support;

namespace Mlops.Stream.Http.Tests;

/// <summary>Readiness is logged once per change, with the reasons, and never as an error while the node starts.</summary>
public sealed class ReadinessLogTests
{
    [Fact]
    public void Each_change_of_readiness_is_logged_once_with_the_failing_checks_and_only_a_lost_readiness_is_a_warning()
    {
        using var captured = new CapturingLoggerProvider();
        var log = new ReadinessLog(captured.CreateLogger("readiness"));
        var joining = Report(("akka.cluster.join", HealthStatus.Unhealthy, "not a member yet"), ("kafka", HealthStatus.Healthy, null));
        var ready = Report(("akka.cluster.join", HealthStatus.Healthy, null), ("kafka", HealthStatus.Healthy, null));
        var brokerDown = Report(("akka.cluster.join", HealthStatus.Healthy, null), ("kafka", HealthStatus.Unhealthy, "broker unreachable"));

        foreach (var report in new[] { joining, joining, ready, ready, brokerDown, brokerDown, ready })
            log.Observe(report);

        Assert.Equal(
        [
            (LogLevel.Information, "Node not ready yet: akka.cluster.join: not a member yet"),
            (LogLevel.Information, "Node ready: every readiness check passes"),
            (LogLevel.Warning, "Node no longer ready: kafka: broker unreachable"),
            (LogLevel.Information, "Node ready: every readiness check passes"),
        ], captured.Entries.Select(e => (e.Level, e.Message)));
    }

    [Fact]
    public void A_degraded_node_is_ready()
    {
        using var captured = new CapturingLoggerProvider();
        var log = new ReadinessLog(captured.CreateLogger("readiness"));

        log.Observe(Report(("kafka-shared-topics", HealthStatus.Degraded, "audit topic missing")));

        Assert.Equal((LogLevel.Information, "Node ready, degraded: kafka-shared-topics: audit topic missing"),
            captured.Entries.Select(e => (e.Level, e.Message)).Single());
    }

    private static HealthReport Report(params (string Name, HealthStatus Status, string? Description)[] checks) =>
        new(checks.ToDictionary(c => c.Name, c => new HealthReportEntry(c.Status, c.Description, TimeSpan.Zero, null, null)), TimeSpan.Zero);
}
