using System.Globalization;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Mlops.Stream.Inference.Registry;
using Mlops.Stream.Reports;

namespace Mlops.Stream.Http;

/// <summary>
/// <c>GET /api/v1/models/{model}/drift[?windows=N]</c>: the latest drift windows of each version of
/// the model (default 10, at most 100 per version), read back from the model's drift topic, so any
/// node answers wherever the model's drift job runs. The topic is read from its end, at most
/// <see cref="MaxScan"/> records, so the answer is bounded however long the job has run.
/// 404 for a model the registry does not know, 503 <c>kafka_unavailable</c> when Kafka does not answer.
/// </summary>
public static class DriftApi
{
    public const int DefaultWindows = 10;
    public const int MaxWindows = 100;

    /// <summary>Records read back from the topic's end at most: all versions' windows together.</summary>
    public const int MaxScan = 1000;

    public static IEndpointRouteBuilder MapDriftApi(this IEndpointRouteBuilder endpoints)
    {
        var drift = endpoints.MapGroup("/api/v1/models/{model}").WithTags("Drift");
        drift.MapGet("/drift", GetAsync)
            .WithSummary("The latest drift windows of each version of the model (windows per version, default 10)")
            .Produces<DriftStatusResponse>()
            .Errors(StatusCodes.Status400BadRequest, StatusCodes.Status404NotFound, StatusCodes.Status503ServiceUnavailable);
        drift.MapGet("/drift/report", DriftReportEndpoint.GetAsync)
            .WithSummary("The drift report of a version's recent windows: one self-contained HTML page, or one feature as PNG (format=png&feature=F)")
            // One declaration for both media types: a second Produces for 200 would replace the first.
            .Produces(StatusCodes.Status200OK, typeof(string), DriftReportPage.MediaType, DriftFeaturePng.MediaType)
            .Errors(StatusCodes.Status400BadRequest, StatusCodes.Status404NotFound, StatusCodes.Status503ServiceUnavailable);
        drift.MapPost("/drift/baseline", DriftBaselineEndpoint.PostAsync)
            .WithSummary("Set a version's reference (default: production) to a sample of the served traffic between from and to (at most max_rows rows); audited")
            .Produces<DriftBaselineResponse>()
            .Errors(StatusCodes.Status400BadRequest, StatusCodes.Status404NotFound, StatusCodes.Status409Conflict, StatusCodes.Status503ServiceUnavailable);
        return endpoints;
    }

    private static async Task<IResult> GetAsync(string model, string? windows, IModelRegistry registry, IDriftHistory history, CancellationToken cancellationToken)
    {
        var perVersion = DefaultWindows;
        if (windows is not null && (!int.TryParse(windows, NumberStyles.None, CultureInfo.InvariantCulture, out perVersion) || perVersion is < 1 or > MaxWindows))
            return TopicsApi.Error(StatusCodes.Status400BadRequest, $"windows '{windows}' is not a whole number from 1 to {MaxWindows}", HttpErrorCodes.BadRequest);
        if (!await TopicsApi.IsRegisteredAsync(registry, model, cancellationToken)) return TopicsApi.ModelNotFound(model);

        IReadOnlyList<DriftWindowRecord> records;
        try
        {
            records = await history.RecentAsync(model, MaxScan, cancellationToken);
        }
        catch (BrokerUnavailableException e)
        {
            return TopicsApi.KafkaUnavailable(e);
        }

        var versions = records
            .GroupBy(r => r.Version)
            .OrderByDescending(g => g.Key)
            .Select(g =>
            {
                var newest = g.Reverse().Take(perVersion).ToList();
                return new VersionDrift(g.Key, newest[0].Drifted, [.. newest.Select(r => r.Window)]);
            })
            .ToList();
        return TypedResults.Ok(new DriftStatusResponse(model, versions));
    }
}
