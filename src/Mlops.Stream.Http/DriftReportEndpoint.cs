using System.Collections.Immutable;
using System.Globalization;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Http;
using Mlops.Stream.Drift.Windows;
using Mlops.Stream.Inference.Registry;
using Mlops.Stream.Reports;

namespace Mlops.Stream.Http;

/// <summary>
/// <c>GET /api/v1/models/{model}/drift/report[?version=N][&amp;windows=N][&amp;format=png&amp;feature=F]</c>:
/// the drift report of one version (default: the newest version with windows) over its latest
/// <c>windows</c> windows (default 30, at most 100), read back from the drift topic like
/// <see cref="DriftApi"/>, with the version's reference profile from the registry. HTML by default
/// (one self-contained page); <c>format=png</c> draws one <c>feature</c>. 404 for an unknown model,
/// a version or feature without windows; 400 for a bad parameter; 503 when Kafka does not answer.
/// </summary>
internal static class DriftReportEndpoint
{
    public const int DefaultWindows = 30;

    public static async Task<IResult> GetAsync(
        string model,
        string? version,
        string? windows,
        string? format,
        string? feature,
        IModelRegistry registry,
        IDriftHistory history,
        CancellationToken cancellationToken)
    {
        var shown = DefaultWindows;
        if (windows is not null && (!int.TryParse(windows, NumberStyles.None, CultureInfo.InvariantCulture, out shown) || shown is < 1 or > DriftApi.MaxWindows))
            return BadRequest($"windows '{windows}' is not a whole number from 1 to {DriftApi.MaxWindows}");
        int? chosen = null;
        if (version is not null)
        {
            if (!int.TryParse(version, NumberStyles.None, CultureInfo.InvariantCulture, out var v) || v < 1)
                return TopicsApi.Error(StatusCodes.Status400BadRequest, $"version '{version}' is not a positive integer", HttpErrorCodes.InvalidVersion);
            chosen = v;
        }

        var png = format?.ToLowerInvariant() switch
        {
            null or "html" => false,
            "png" => true,
            _ => (bool?)null,
        };
        if (png is null) return BadRequest($"format '{format}' is not html or png");
        if (png == true && string.IsNullOrEmpty(feature)) return BadRequest("format=png draws one feature: add feature=<name>");
        if (!await TopicsApi.IsRegisteredAsync(registry, model, cancellationToken)) return TopicsApi.ModelNotFound(model);

        IReadOnlyList<DriftWindowRecord> records;
        try
        {
            records = await history.RecentAsync(model, DriftApi.MaxScan, cancellationToken);
        }
        catch (BrokerUnavailableException e)
        {
            return TopicsApi.KafkaUnavailable(e);
        }

        var reportVersion = chosen ?? (records.Count == 0 ? 0 : records.Max(r => r.Version));
        var recent = records.Where(r => r.Version == reportVersion).TakeLast(shown).Select(Read).OfType<DriftWindowReport>().ToList();
        if (recent.Count == 0)
        {
            return TopicsApi.Error(StatusCodes.Status404NotFound, chosen is null
                ? $"no drift window for model '{model}' yet: a window closes after Drift:WindowEvents served events or Drift:WindowSpan of served traffic"
                : $"no drift window for model '{model}' version {reportVersion} among the drift topic's latest {DriftApi.MaxScan} records", HttpErrorCodes.NotFound);
        }

        var input = new DriftReportInput(model, reportVersion, await ReferenceAsync(registry, model, reportVersion, cancellationToken), recent, DateTimeOffset.UtcNow);
        if (png == false)
        {
            return TypedResults.Text(DriftReportPage.Render(input), DriftReportPage.MediaType, Encoding.UTF8);
        }

        return DriftFeaturePng.Render(input, feature!) is { } image
            ? TypedResults.File(image, DriftFeaturePng.MediaType)
            : TopicsApi.Error(StatusCodes.Status404NotFound,
                $"feature '{feature}' is not in version {reportVersion}'s reference profile nor its latest window; its features: {string.Join(", ", input.Features().Select(f => f.Feature).Take(50))}",
                HttpErrorCodes.NotFound);
    }

    /// <summary>
    /// The version's profile: its reference sample's when it has one (the bins its windows were
    /// counted in since), else its manifest's; empty when the version is gone from the registry
    /// (its windows are still worth showing).
    /// </summary>
    private static async Task<ImmutableArray<FeatureProfile>> ReferenceAsync(IModelRegistry registry, string model, int version, CancellationToken cancellationToken)
    {
        try
        {
            var manifest = await registry.GetManifestAsync(model, version, cancellationToken);
            return (await registry.GetReferenceSampleAsync(model, version, cancellationToken))?.Profile() ?? manifest.ReferenceProfile;
        }
        catch (ModelRegistryException e) when (e.Error == ModelRegistryError.NotFound)
        {
            return [];
        }
    }

    /// <summary>A record as the drift job wrote it; null for one that does not read (a report shows the others).</summary>
    private static DriftWindowReport? Read(DriftWindowRecord record)
    {
        try
        {
            var report = DriftWindowJson.Deserialize(Encoding.UTF8.GetBytes(record.Window.GetRawText()));

            // The reader leaves a missing member null or default; a record without these is not a window.
            return report.Model is null || report.Dataset is null || report.Features.IsDefault || report.Features.Any(f => f?.Feature is null || f.Quality is null)
                ? null
                : report;
        }
        catch (JsonException)
        {
            return null;
        }
    }

    private static IResult BadRequest(string message) => TopicsApi.Error(StatusCodes.Status400BadRequest, message, HttpErrorCodes.BadRequest);
}
