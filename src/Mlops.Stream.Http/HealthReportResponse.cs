using System.Text.Json.Serialization;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Mlops.Stream.Http;

/// <summary>The body of <c>/healthz/*</c>: the overall status and each check's, so an operator sees which one failed.</summary>
public sealed record HealthReportResponse(
    [property: JsonPropertyName("status")] string Status,
    [property: JsonPropertyName("duration_ms")] double DurationMs,
    [property: JsonPropertyName("checks")] IReadOnlyList<HealthCheckResponse> Checks)
{
    public static HealthReportResponse From(HealthReport report) => new(
        report.Status.ToString(),
        report.TotalDuration.TotalMilliseconds,
        report.Entries
            .Select(e => new HealthCheckResponse(
                e.Key, e.Value.Status.ToString(), e.Value.Description ?? e.Value.Exception?.Message, e.Value.Duration.TotalMilliseconds))
            .OrderBy(c => c.Name, StringComparer.Ordinal)
            .ToList());
}

/// <summary>One health check's result.</summary>
public sealed record HealthCheckResponse(
    [property: JsonPropertyName("name")] string Name,
    [property: JsonPropertyName("status")] string Status,
    [property: JsonPropertyName("description")] string? Description,
    [property: JsonPropertyName("duration_ms")] double DurationMs);
