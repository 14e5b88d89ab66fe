using System.Net;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Mlops.Stream.Drift;
using Mlops.Stream.Drift.Windows;
using Mlops.Stream.Http.Tests.Support;
using Mlops.Stream.Inference.Registry;
using Mlops.Stream.Reports;
using SkiaSharp;

namespace Mlops.Stream.Http.Tests;

/// <summary>
/// <c>GET /api/v1/models/{model}/drift/report</c> over a fake drift history holding real window
/// records and the stub registry's reference profile: the HTML page of the newest version or the
/// one asked for, the PNG of one feature, and every refusal with its reason.
/// </summary>
public sealed class DriftReportApiTests : IAsyncLifetime
{
    // StubRegistry's profile: "amount" from [1, 3, 5, 7] in 2 bins.
    private static readonly FeatureProfile Amount = FeatureProfile.FromValues("amount", [1, 3, 5, 7], bins: 2);
    private static readonly DateTimeOffset T0 = new(2026, 12, 3, 9, 0, 0, TimeSpan.Zero);

    private readonly FakeDriftHistory _history = new();
    private TestApp _app = null!;

    public async Task InitializeAsync() =>
        _app = await TestApp.StartAsync(
            services: services => services.AddSingleton<IModelRegistry>(new StubRegistry()).AddSingleton<IDriftHistory>(_history),
            endpoints: app => app.MapDriftApi());

    public async Task DisposeAsync() => await _app.DisposeAsync();

    [Fact]
    public async Task The_report_is_one_html_page_of_the_newest_versions_windows_with_both_histograms()
    {
        _history.Records.AddRange([Record(1, 1, [1, 2, 3]), Record(2, 2, [1, 2, 6]), Record(2, 3, [6, 6, 7, 8])]);

        using var response = await _app.Http.GetAsync("/api/v1/models/fraud/drift/report");
        var html = await response.Content.ReadAsStringAsync();

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/html", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal("utf-8", response.Content.Headers.ContentType?.CharSet);
        Assert.Contains("<title>Drift report: fraud, version 2</title>", html);
        Assert.Contains("2 recent windows shown", html);
        Assert.Equal(2, html.Split("<rect class=\"reference\"").Length - 1);
        Assert.Equal(2, html.Split("<rect class=\"current\"").Length - 1);
        Assert.Equal(DriftApi.MaxScan, _history.LastScan);
    }

    [Fact]
    public async Task Version_and_windows_choose_what_the_report_covers()
    {
        _history.Records.AddRange([Record(1, 1, [1, 2]), Record(1, 2, [1, 2]), Record(1, 3, [5, 6]), Record(2, 4, [1, 2])]);

        var html = await _app.Http.GetStringAsync("/api/v1/models/fraud/drift/report?version=1&windows=2");

        Assert.Contains("<title>Drift report: fraud, version 1</title>", html);
        Assert.Contains("2 recent windows shown, the first ending 2026-12-03 09:02:00Z", html);
    }

    [Fact]
    public async Task Format_png_draws_one_feature_as_a_png()
    {
        _history.Records.AddRange([Record(2, 1, [1, 2, 6])]);

        using var response = await _app.Http.GetAsync("/api/v1/models/fraud/drift/report?format=png&feature=amount");
        var png = await response.Content.ReadAsByteArrayAsync();

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("image/png", response.Content.Headers.ContentType?.MediaType);
        using var bitmap = SKBitmap.Decode(png);
        Assert.Equal((DriftFeaturePng.Width, DriftFeaturePng.Height), (bitmap.Width, bitmap.Height));
    }

    [Theory]
    [InlineData("/api/v1/models/ghost/drift/report", HttpStatusCode.NotFound, "model_not_found", "model 'ghost' is not in the registry")]
    [InlineData("/api/v1/models/fraud/drift/report?version=7", HttpStatusCode.NotFound, "not_found", "no drift window for model 'fraud' version 7")]
    [InlineData("/api/v1/models/fraud/drift/report?format=png&feature=nope", HttpStatusCode.NotFound, "not_found", "feature 'nope' is not in version 2's reference profile nor its latest window; its features: amount")]
    [InlineData("/api/v1/models/fraud/drift/report?format=png", HttpStatusCode.BadRequest, "bad_request", "add feature=<name>")]
    [InlineData("/api/v1/models/fraud/drift/report?format=pdf", HttpStatusCode.BadRequest, "bad_request", "format 'pdf' is not html or png")]
    [InlineData("/api/v1/models/fraud/drift/report?windows=101", HttpStatusCode.BadRequest, "bad_request", "from 1 to 100")]
    [InlineData("/api/v1/models/fraud/drift/report?version=x", HttpStatusCode.BadRequest, "invalid_version", "not a positive integer")]
    public async Task Refusals_have_their_status_code_and_reason(string path, HttpStatusCode status, string code, string reason)
    {
        _history.Records.Add(Record(2, 1, [1, 2]));

        using var response = await _app.Http.GetAsync(path);
        var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;

        Assert.Equal(status, response.StatusCode);
        Assert.Equal(code, body.GetProperty("code").GetString());
        Assert.Contains(reason, body.GetProperty("error").GetString());
    }

    [Fact]
    public async Task A_model_without_windows_yet_is_404_saying_when_the_first_one_comes()
    {
        using var response = await _app.Http.GetAsync("/api/v1/models/fraud/drift/report");

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Contains("no drift window for model 'fraud' yet: a window closes after Drift:WindowEvents", await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task An_unreadable_record_is_left_out_and_the_others_are_shown()
    {
        _history.Records.AddRange([Record(2, 1, [1, 2]), new DriftWindowRecord(2, false, JsonDocument.Parse("""{"version":2,"garbage":true}""").RootElement.Clone())]);

        var html = await _app.Http.GetStringAsync("/api/v1/models/fraud/drift/report");

        Assert.Contains("1 recent window shown", html);
    }

    [Fact]
    public async Task Kafka_not_answering_is_503_kafka_unavailable()
    {
        _history.Unavailable = true;

        using var response = await _app.Http.GetAsync("/api/v1/models/fraud/drift/report");

        Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
        Assert.Contains("kafka_unavailable", await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task The_report_needs_the_admin_role_like_the_drift_route()
    {
        await using var secured = await TestApp.StartAsync(
            security: s => s.AdminKeys = [Keys.AdminKey],
            services: services => services.AddSingleton<IModelRegistry>(new StubRegistry()).AddSingleton<IDriftHistory>(_history),
            endpoints: app => app.MapDriftApi());
        _history.Records.Add(Record(2, 1, [1, 2]));

        using var anonymous = await secured.Http.GetAsync("/api/v1/models/fraud/drift/report");
        using var admin = await secured.Http.SendAsync(Keys.Request(HttpMethod.Get, "/api/v1/models/fraud/drift/report", Keys.AdminKey));

        Assert.Equal(HttpStatusCode.Unauthorized, anonymous.StatusCode);
        Assert.Equal(HttpStatusCode.OK, admin.StatusCode);
    }

    /// <summary>A real window record, as the drift job writes it: <paramref name="values"/> of "amount" judged against the stub's profile, ending <paramref name="minute"/> minutes after T0.</summary>
    private static DriftWindowRecord Record(int version, int minute, double[] values)
    {
        var feature = FeatureDrift.Evaluate(new Mlops.Stream.Drift.FeatureReference(Amount), values, DriftOptions.Default);
        var report = new DriftWindowReport("fraud", version, T0.AddMinutes(minute - 1), T0.AddMinutes(minute), WindowClose.Count, values.Length, values.Length,
            [new PartitionOffsets(0, minute, minute)], DatasetDrift.Of([feature], DriftOptions.Default), [feature]);
        return new DriftWindowRecord(version, report.Dataset.Drifted, JsonDocument.Parse(DriftWindowJson.Serialize(report)).RootElement.Clone());
    }
}
