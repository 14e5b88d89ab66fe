using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace Mlops.Stream.Cli.Tests;

/// <summary>
/// The fake's drift route in the node's shape (DriftStatusResponse: per version, newest first, its
/// windows as the drift topic holds them). <c>fraud-demo</c>: version 2 drifted in its latest window
/// (three of four features, one not evaluated: score "NaN"), version 1 stable; <c>quiet</c> has no
/// window yet; <c>ghost</c> is unknown (404); <c>labelled</c>'s latest window had feedback labels
/// and is judged against its prediction baseline, the one before was that baseline and had no labels.
/// </summary>
public sealed partial class FakeAdminApi
{
    public const string LabelledDriftJson = """
        {"model":"labelled","versions":[
          {"version":1,"drift_detected":false,"windows":[
            {"model":"labelled","version":1,"start":"2026-12-02T12:01:00+00:00","end":"2026-12-02T12:01:30+00:00","closed_by":"count","events":20,"rows":20,
             "offsets":[{"partition":0,"first":20,"last":39}],
             "dataset":{"feature_count":1,"evaluated_count":1,"drifted_count":0,"drifted_share":0,"threshold":0.5,"verdict":"stable"},"features":[],
             "performance":{"labelled":14,"late":14,"classes":2,"average":"binary","positive_class":1,"accuracy":0.8571428571428571,"precision":0.75,"recall":1,"roc_auc":null},
             "prediction_drift":{"reference":"baseline_window","is_baseline":false,"baseline_start":"2026-12-02T12:00:00+00:00","baseline_end":"2026-12-02T12:00:30+00:00",
               "baseline_rows":20,"rows":20,"verdict":"drifted","outputs":[
               {"feature":"probabilities[fraud]","method":"population_stability_index","reference":"profile","score":0.42,"p_value":null,"threshold":0.1,"verdict":"drifted","quality":{"count":20,"non_finite_share":0,"out_of_range_share":0}},
               {"feature":"predicted_class","method":"jensen_shannon","reference":"sample","score":0.05,"p_value":null,"threshold":0.1,"verdict":"stable","quality":{"count":20,"non_finite_share":0,"out_of_range_share":0}}]}},
            {"model":"labelled","version":1,"start":"2026-12-02T12:00:00+00:00","end":"2026-12-02T12:00:30+00:00","closed_by":"count","events":20,"rows":20,
             "offsets":[{"partition":0,"first":0,"last":19}],
             "dataset":{"feature_count":1,"evaluated_count":1,"drifted_count":0,"drifted_share":0,"threshold":0.5,"verdict":"stable"},"features":[],
             "performance":{"labelled":0,"late":0,"classes":2,"average":"binary","positive_class":1,"accuracy":null,"precision":null,"recall":null,"roc_auc":null},
             "prediction_drift":{"reference":"baseline_window","is_baseline":true,"baseline_start":"2026-12-02T12:00:00+00:00","baseline_end":"2026-12-02T12:00:30+00:00",
               "baseline_rows":20,"rows":20,"verdict":"not_evaluated","outputs":[]}}]}]}
        """;

    public const string DriftJson = """
        {"model":"fraud-demo","versions":[
          {"version":2,"drift_detected":true,"windows":[
            {"model":"fraud-demo","version":2,"start":"2026-12-02T12:01:00+00:00","end":"2026-12-02T12:01:30+00:00","closed_by":"count","events":200,"rows":200,
             "offsets":[{"partition":0,"first":10,"last":120}],
             "dataset":{"feature_count":4,"evaluated_count":3,"drifted_count":3,"drifted_share":1,"threshold":0.5,"verdict":"drifted"},
             "features":[
               {"feature":"amount","method":"population_stability_index","reference":"profile","score":1.25,"p_value":null,"threshold":0.1,"verdict":"drifted","quality":{"count":200,"non_finite_share":0,"out_of_range_share":0.3}},
               {"feature":"hour","method":"population_stability_index","reference":"profile","score":0.5,"p_value":null,"threshold":0.1,"verdict":"drifted","quality":{"count":200,"non_finite_share":0,"out_of_range_share":0}},
               {"feature":"distance","method":"kolmogorov_smirnov","reference":"sample","score":0.4,"p_value":0.001,"threshold":0.05,"verdict":"drifted","quality":{"count":200,"non_finite_share":0,"out_of_range_share":0}},
               {"feature":"flag","method":"population_stability_index","reference":"profile","score":"NaN","p_value":null,"threshold":0.1,"verdict":"not_evaluated","quality":{"count":200,"non_finite_share":1,"out_of_range_share":0}}]}]},
          {"version":1,"drift_detected":false,"windows":[
            {"model":"fraud-demo","version":1,"start":"2026-12-02T12:00:30+00:00","end":"2026-12-02T12:00:59+00:00","closed_by":"time","events":150,"rows":150,
             "offsets":[{"partition":1,"first":0,"last":149}],
             "dataset":{"feature_count":4,"evaluated_count":4,"drifted_count":0,"drifted_share":0,"threshold":0.5,"verdict":"stable"},"features":[]},
            {"model":"fraud-demo","version":1,"start":"2026-12-02T12:00:00+00:00","end":"2026-12-02T12:00:29+00:00","closed_by":"count","events":200,"rows":200,
             "offsets":[{"partition":0,"first":0,"last":9},{"partition":1,"first":0,"last":189}],
             "dataset":{"feature_count":4,"evaluated_count":4,"drifted_count":1,"drifted_share":0.25,"threshold":0.5,"verdict":"stable"},"features":[]}]}]}
        """;

    /// <summary>The fake report page; the node renders the real one (Mlops.Stream.Reports).</summary>
    public const string ReportHtml = "<!DOCTYPE html>\n<html><body><h1>Drift report: fraud-demo, version 2</h1></body></html>\n";

    /// <summary>The fake PNG: the signature and a few bytes (the CLI saves the node's bytes as they come).</summary>
    public static readonly byte[] ReportPng = [0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A, 1, 2, 3];

    private static void MapDriftRoutes(WebApplication app)
    {
        app.MapGet("/api/v1/models/{model}/drift", (string model, HttpContext http) => model switch
        {
            "ghost" => NotFound(http, model),
            "quiet" => Json(http, 200, """{"model":"quiet","versions":[]}"""),
            "labelled" => Json(http, 200, LabelledDriftJson),
            _ => Json(http, 200, DriftJson),
        });

        // A baseline: the node's answer for any window; "ghost" unknown.
        app.MapPost("/api/v1/models/{model}/drift/baseline", (string model, HttpContext http) => model == "ghost"
            ? NotFound(http, model)
            : Json(http, 200, $$$"""{"model":"{{{model}}}","version":3,"from":"2026-12-02T10:00:00+00:00","to":"2026-12-02T11:00:00+00:00","records":1200,"events":1190,"rows_seen":1190,"rows":1000,"skipped":{"unreadable":10}}"""));

        // The report: ghost unknown, quiet without windows, "proxied" answered by something else than the node.
        app.MapGet("/api/v1/models/{model}/drift/report", async (string model, HttpContext http) =>
        {
            var feature = http.Request.Query["feature"].ToString();
            switch (model)
            {
                case "ghost":
                    await NotFound(http, model);
                    return;
                case "quiet":
                    await Json(http, 404, """{"error":"no drift window for model 'quiet' yet","code":"not_found"}""");
                    return;
                case "proxied":
                    http.Response.ContentType = "text/plain";
                    await http.Response.WriteAsync("hello from a proxy");
                    return;
            }

            if (http.Request.Query["format"] == "png")
            {
                if (feature != "amount")
                {
                    await Json(http, 404, $$"""{"error":"feature '{{feature}}' is not in version 2's reference profile nor its latest window; its features: amount","code":"not_found"}""");
                    return;
                }

                http.Response.ContentType = "image/png";
                await http.Response.Body.WriteAsync(ReportPng);
                return;
            }

            http.Response.ContentType = "text/html; charset=utf-8";
            await http.Response.WriteAsync(ReportHtml);
        });
    }
}
