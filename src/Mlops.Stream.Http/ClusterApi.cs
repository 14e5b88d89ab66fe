using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace Mlops.Stream.Http;

/// <summary>
/// The cluster admin API under <c>/api/v1</c>: membership (<c>GET /cluster</c>, <c>POST
/// /cluster/leave</c>, <c>POST /cluster/down</c>) and where model replicas run (<c>GET /shards</c>).
/// Like every <c>/api/v1</c> route it needs the admin role (see <c>AccessPolicy</c>).
/// </summary>
public static class ClusterApi
{
    /// <summary>Leave or down named an address that is not a member of the cluster (404).</summary>
    public const string MemberNotFound = "member_not_found";

    /// <summary>Leave or down got no address, or one that is not <c>akka.tcp://system@host:port</c> (400).</summary>
    public const string InvalidAddress = "invalid_address";

    public static IEndpointRouteBuilder MapClusterApi(this IEndpointRouteBuilder endpoints)
    {
        var cluster = endpoints.MapGroup("/api/v1/cluster").WithTags("Cluster");
        cluster.MapGet("", (IClusterMembership membership) => TypedResults.Ok(membership.Current()))
            .WithSummary("The cluster's members, their status and roles, and the leader");
        cluster.MapPost("/leave", (MemberAddressRequest body, IClusterMembership membership, HttpContext http) =>
            Change(body, address => membership.LeaveAsync(address, AdminApi.Actor(http))))
            .WithSummary("Ask a member to leave gracefully: its replicas hand over, then it exits").MembershipChange();
        cluster.MapPost("/down", (MemberAddressRequest body, IClusterMembership membership, HttpContext http) =>
            Change(body, address => membership.DownAsync(address, AdminApi.Actor(http))))
            .WithSummary("Mark an unreachable member down so its replicas start elsewhere").MembershipChange();
        endpoints.MapGet("/api/v1/shards", async (IShardDirectory shards, CancellationToken ct) =>
            TypedResults.Ok(await shards.QueryAsync(ct))).WithTags("Cluster")
            .WithSummary("Where every model replica runs");
        return endpoints;
    }

    /// <summary>202 once the leader has the change; 400 no or a malformed address, 404 not a member.</summary>
    private static RouteHandlerBuilder MembershipChange(this RouteHandlerBuilder route) => route
        .Produces<ClusterChangeResponse>(StatusCodes.Status202Accepted)
        .Errors(StatusCodes.Status400BadRequest, StatusCodes.Status404NotFound);

    private static async Task<IResult> Change(MemberAddressRequest body, Func<string, Task<MembershipChange>> change)
    {
        if (string.IsNullOrWhiteSpace(body.Address))
            return Error(StatusCodes.Status400BadRequest, "the body needs the member's address: {\"address\":\"akka.tcp://<system>@<host>:<port>\"}", InvalidAddress);
        return await change(body.Address.Trim()) switch
        {
            // Accepted, not OK: the leader carries the change out after this answer.
            MembershipChange.Accepted accepted => TypedResults.Json(accepted.Change, statusCode: StatusCodes.Status202Accepted),
            MembershipChange.NotMember n => Error(StatusCodes.Status404NotFound, n.Message, MemberNotFound),
            MembershipChange.InvalidAddress i => Error(StatusCodes.Status400BadRequest, i.Message, InvalidAddress),
            _ => Error(StatusCodes.Status500InternalServerError, "unexpected result", HttpErrorCodes.Internal),
        };
    }

    private static IResult Error(int status, string message, string code) =>
        TypedResults.Json(new ErrorResponse(message, code), statusCode: status);
}
