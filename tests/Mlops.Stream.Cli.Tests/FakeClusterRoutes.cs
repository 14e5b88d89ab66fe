using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace Mlops.Stream.Cli.Tests;

/// <summary>
/// The cluster routes of <see cref="FakeAdminApi"/>, in the node's shapes (ClusterState,
/// ClusterChangeResponse, ShardPlacement): a two-node cluster whose second node is unreachable and
/// did not answer the shard query. Leave and down accept every address but <see cref="GhostMember"/> (404).
/// </summary>
public static class FakeClusterRoutes
{
    public const string Self = "akka.tcp://mlops@10.0.0.1:4053";
    public const string Other = "akka.tcp://mlops@10.0.0.2:4053";
    public const string GhostMember = "akka.tcp://mlops@10.0.0.9:4053";

    public const string ClusterJson = $$"""
        {"self":"{{Self}}","leader":"{{Self}}","members":[{"address":"{{Self}}","status":"Up","roles":["serving"],"age":1,"reachable":true,"leader":true,"self":true},{"address":"{{Other}}","status":"Up","roles":[],"age":2,"reachable":false,"leader":false,"self":false}],"unreachable":["{{Other}}"]}
        """;

    public const string ShardsJson = $$"""
        {"type_name":"model-replica","nodes":[{"address":"{{Self}}","answer":"ok","shards":[{"shard_id":"12","entities":[{"entity_id":"fraud-demo#0","model":"fraud-demo","replica":0}]},{"shard_id":"3","entities":[{"entity_id":"churn#0","model":"churn","replica":0}]},{"shard_id":"7","entities":[]}],"failed_shards":["9"]},{"address":"{{Other}}","answer":"timed_out","error":"no answer from its 'model-replica' region within 5 s","shards":[],"failed_shards":[]}]}
        """;

    public static void MapFakeClusterRoutes(this WebApplication app)
    {
        app.MapGet("/api/v1/cluster", () => Json(200, ClusterJson));
        app.MapGet("/api/v1/shards", () => Json(200, ShardsJson));
        app.MapPost("/api/v1/cluster/{action}", (string action, HttpContext http) =>
        {
            var address = JsonDocument.Parse((string)http.Items[FakeAdminApi.BodyKey]!).RootElement.GetProperty("address").GetString();
            return address == GhostMember
                ? Json(404, $$"""{"error":"{{address}} is not a member of the cluster (members: {{Self}}, {{Other}})","code":"member_not_found"}""")
                : Json(202, $$"""{"address":"{{address}}","action":"{{action}}","previous_status":"Up"}""");
        });
    }

    private static IResult Json(int status, string json) =>
        Results.Content(json.Trim(), "application/json; charset=utf-8", statusCode: status);
}
