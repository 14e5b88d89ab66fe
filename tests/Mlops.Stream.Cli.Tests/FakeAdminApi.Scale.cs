using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace Mlops.Stream.Cli.Tests;

/// <summary>
/// The fake's scale routes in the node's shape (ScaleResponse: <c>{"model","mode","replicas"}</c>,
/// plus <c>"changed"</c> on a POST). On GET, <c>fraud-demo</c> runs <see cref="FraudDemoReplicas"/>
/// replicas and every other model one per node. A POST sets what its body says; for model
/// <c>steady</c> nothing changes. <c>ghost</c> is unknown (404); a count out of 1..64 is 400
/// <c>invalid_scale</c>, as the node answers.
/// </summary>
public sealed partial class FakeAdminApi
{
    public const int FraudDemoReplicas = 3;

    private static void MapScaleRoutes(WebApplication app)
    {
        app.MapGet("/api/v1/models/{model}/scale", (string model, HttpContext http) => model switch
        {
            "ghost" => NotFound(http, model),
            "fraud-demo" => Json(http, 200, Scale(model, FraudDemoReplicas, changed: null)),
            _ => Json(http, 200, Scale(model, null, changed: null)),
        });
        app.MapPost("/api/v1/models/{model}/scale", (string model, HttpContext http) =>
        {
            if (model == "ghost") return NotFound(http, model);
            var replicas = JsonDocument.Parse((string)http.Items[BodyKey]!).RootElement.GetProperty("replicas");
            int? count = replicas.ValueKind == JsonValueKind.Null ? null : replicas.GetInt32();
            if (count is < 1 or > 64)
                return Json(http, 400, $$"""{"error":"Model '{{model}}': replicas must be from 1 to 64, was {{count}}.","code":"invalid_scale"}""");
            return Json(http, 200, Scale(model, count, changed: model != "steady"));
        });
    }

    private static string Scale(string model, int? replicas, bool? changed) =>
        $$"""{"model":"{{model}}","mode":"{{(replicas is null ? "per_node" : "fixed")}}","replicas":{{(replicas?.ToString() ?? "null")}}""" +
        (changed is { } c ? $$""","changed":{{(c ? "true" : "false")}}}""" : "}");
}
