using System.Globalization;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Mlops.Stream.Drift.Windows;
using Mlops.Stream.Inference.Lifecycle;
using Mlops.Stream.Inference.Registry;

namespace Mlops.Stream.Http;

/// <summary>
/// <c>POST /api/v1/models/{model}/drift/baseline</c> (<c>mlops drift baseline</c>): sets a version's
/// reference to a past window of its model's served traffic. The served-events topic is read from
/// the window's start (found by timestamp) to its end, each event's inputs are laid out in the
/// version's feature columns, and a uniform sample of at most <c>max_rows</c> rows is kept
/// (<see cref="BaselineSampler"/>), so a window of any length costs bounded memory. The sample is
/// stored as the version's reference sample and audited (<c>reference-baseline</c>); the model's
/// drift job judges the version's windows against it from its next window after it notices
/// (<c>Drift:RefreshReferenceAfter</c>). 400 for a bad window or one holding fewer than
/// <see cref="MinRows"/> usable rows, 404 for an unknown model or version, 409 without a production
/// version and no <c>version</c>, 503 when Kafka does not answer.
/// </summary>
public static class DriftBaselineEndpoint
{
    /// <summary>Rows kept when the request names no <c>max_rows</c>.</summary>
    public const int DefaultRows = 10_000;

    /// <summary>Fewer usable rows than this are no baseline: the statistics would be noise.</summary>
    public const int MinRows = 10;

    public static async Task<IResult> PostAsync(string model, [FromBody] DriftBaselineRequest body, [FromServices] IModelRegistry registry,
        [FromServices] IServedTraffic traffic, [FromServices] ModelAdministration admin, HttpContext http, CancellationToken cancellationToken)
    {
        var maxRows = body.MaxRows ?? DefaultRows;
        if (maxRows is < MinRows or > ReferenceSample.MaxRows)
            return Invalid($"max_rows must be from {MinRows} to {ReferenceSample.MaxRows} (got {maxRows})");
        if (body.From >= body.To) return Invalid($"the window must end after it starts (from {body.From:O}, to {body.To:O})");
        if (!await TopicsApi.IsRegisteredAsync(registry, model, cancellationToken)) return TopicsApi.ModelNotFound(model);

        var version = body.Version ?? (await registry.GetAliasesAsync(model, cancellationToken)).Production;
        if (version is not { } chosen)
            return TopicsApi.Error(StatusCodes.Status409Conflict, $"Model '{model}' has no production version; name one with version", AdminErrorCodes.Conflict);
        IReadOnlyList<string> columns;
        try
        {
            columns = await ColumnsAsync(registry, model, chosen, cancellationToken);
        }
        catch (ModelRegistryException e) when (e.Error == ModelRegistryError.NotFound)
        {
            return TopicsApi.Error(StatusCodes.Status404NotFound, e.Message, HttpErrorCodes.ModelNotFound);
        }

        if (columns.Count == 0)
            return Invalid($"model '{model}' version {chosen} names no features (no feature_names, reference profile or sample), so served inputs cannot be laid out");

        var sampler = new BaselineSampler(model, columns, maxRows);
        long records;
        try
        {
            records = await traffic.ScanAsync(model, body.From, body.To, r => sampler.Add(r.Value, r.Partition, r.Offset), cancellationToken);
        }
        catch (BrokerUnavailableException e)
        {
            return TopicsApi.KafkaUnavailable(e);
        }

        if (sampler.Rows < MinRows)
        {
            return Invalid($"the window {body.From:O} to {body.To:O} holds {sampler.Rows} usable rows ({records} served records, {sampler.Events} events of '{model}' read"
                + (sampler.Skipped.Count == 0 ? "" : $"; left out: {string.Join(", ", sampler.Skipped.Select(s => $"{s.Value} {s.Key}"))}")
                + $"); at least {MinRows} are needed");
        }

        var origin = string.Create(CultureInfo.InvariantCulture, $"served traffic {body.From:O} to {body.To:O} ({sampler.RowsSeen} rows of {sampler.Events} events)");
        var result = await admin.SetReferenceAsync(model, chosen, sampler.ToSample()!, origin, AdminApi.Actor(http), cancellationToken);
        return result switch
        {
            AdminResult.Done => TypedResults.Ok(new DriftBaselineResponse(model, chosen, body.From, body.To, records, sampler.Events, sampler.RowsSeen, sampler.Rows,
                sampler.Skipped.ToDictionary())),
            AdminResult.NotFound n => TopicsApi.Error(StatusCodes.Status404NotFound, n.Message, HttpErrorCodes.ModelNotFound),
            AdminResult.Invalid i => Invalid(i.Message),
            _ => TopicsApi.Error(StatusCodes.Status500InternalServerError, "unexpected result", HttpErrorCodes.Internal),
        };
    }

    /// <summary>The version's features in input column order: its declared names, else its sample's header, else its profile's features.</summary>
    private static async Task<IReadOnlyList<string>> ColumnsAsync(IModelRegistry registry, string model, int version, CancellationToken cancellationToken)
    {
        var manifest = await registry.GetManifestAsync(model, version, cancellationToken);
        if (!manifest.FeatureNames.IsDefaultOrEmpty) return manifest.FeatureNames;
        if (await registry.GetReferenceSampleAsync(model, version, cancellationToken) is { } sample) return sample.Features;
        return [.. manifest.ReferenceProfile.Select(p => p.Feature)];
    }

    private static IResult Invalid(string message) => TopicsApi.Error(StatusCodes.Status400BadRequest, message, AdminErrorCodes.InvalidReference);
}
