using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace Mlops.Stream.Cli.Tests;

/// <summary>
/// The fake's scale routes in the node's shape (ScaleResponse: <c>{"model","mode","replicas"}</c>,
/// plus <c>"changed"</c> on a POST). On GET, <c>fraud-demo</c> runs <see cref="FraudDemoReplicas"/>
/// replicas and every other model one per node. A POST sets what its body says; for model
/// <c>steady</c> nothing changes. <c>ghost</c> is unknown (404); a count out of 1..64 is 400
/// <c>invalid_scale</c>, as the node answers. <c>autoscaled</c> is autoscaled from 1 to 3 with a last
/// decision; a POST with min and max answers in autoscale mode at min.
/// </summary>
public sealed partial class FakeAdminApi
{
    public const int FraudDemoReplicas = 3;

    private static void MapScaleRoutes(WebApplication app)
    {
        // Replicas of fraud-demo as a three-node cluster lists them, of swapping halfway through a promotion to
        // version 3; other models have none listed (an older node: 404).
        app.MapGet("/api/v1/models/{model}/replicas", (string model, HttpContext http) => model == "fraud-demo"
            ? Json(http, 200, """
                [{"replica":"fraud-demo#0","index":0,"node":"akka.tcp://mlops@10.0.0.1:4053","local":true,"reachable":true,"state":"ready",
                  "serving_version":2,"reason":null,"partitions":[0,1,2],"lag":4,"queue_depth":1},
                 {"replica":"fraud-demo#1","index":1,"node":"akka.tcp://mlops@10.0.0.2:4053","local":false,"reachable":false,"state":"unknown",
                  "serving_version":null,"reason":null,"partitions":[],"lag":null,"queue_depth":null}]
                """)
            : model == "swapping"
                ? Json(http, 200, """
                    [{"replica":"swapping#0","index":0,"node":"akka.tcp://mlops@10.0.0.1:4053","local":true,"reachable":true,"state":"ready",
                      "serving_version":3,"reason":null,"partitions":[0,1],"lag":0,"queue_depth":0},
                     {"replica":"swapping#1","index":1,"node":"akka.tcp://mlops@10.0.0.2:4053","local":false,"reachable":true,"state":"loading",
                      "serving_version":2,"reason":"warming up version 3","partitions":[2,3],"lag":0,"queue_depth":0}]
                    """)
                : NotFound(http, model));
        app.MapGet("/api/v1/models/{model}/scale", (string model, HttpContext http) => model switch
        {
            "ghost" => NotFound(http, model),
            "fraud-demo" => Json(http, 200, Scale(model, FraudDemoReplicas, changed: null)),
            "autoscaled" => Json(http, 200, """
                {"model":"autoscaled","mode":"autoscale","replicas":2,"min":1,"max":3,
                 "last_decision":{"at":"2026-12-02T12:00:00+00:00","from":1,"to":2,"reason":"backlog 5000 per replica stayed above 1000 for 30 s"}}
                """),
            _ => Json(http, 200, Scale(model, null, changed: null)),
        });
        app.MapPost("/api/v1/models/{model}/scale", (string model, HttpContext http) =>
        {
            if (model == "ghost") return NotFound(http, model);
            var body = JsonDocument.Parse((string)http.Items[BodyKey]!).RootElement;
            if (body.TryGetProperty("min", out var min) && body.TryGetProperty("max", out var max))
                return Json(http, 200, $$"""{"model":"{{model}}","mode":"autoscale","replicas":{{min}},"min":{{min}},"max":{{max}},"changed":true}""");
            var replicas = body.GetProperty("replicas");
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
