using System.Text.Json.Serialization;

namespace Mlops.Stream.Http;

/// <summary>
/// <c>GET /api/v1/cluster</c>: the Akka cluster as the answering node (<see cref="Self"/>) sees it.
/// <see cref="Members"/> are in age order, oldest first (the order singletons such as the shard
/// coordinator follow); <see cref="Unreachable"/> repeats the addresses of members whose
/// <see cref="ClusterMemberInfo.Reachable"/> is false, for scripts that only need that list.
/// </summary>
public sealed record ClusterState(
    [property: JsonPropertyName("self")] string Self,
    [property: JsonPropertyName("leader")] string? Leader,
    [property: JsonPropertyName("members")] IReadOnlyList<ClusterMemberInfo> Members,
    [property: JsonPropertyName("unreachable")] IReadOnlyList<string> Unreachable);

/// <param name="Address">The member's Akka address, e.g. <c>akka.tcp://mlops@10.0.0.5:4053</c>; what leave and down take.</param>
/// <param name="Status">Akka's member status: Joining, WeaklyUp, Up, Leaving, Exiting, Down, Removed.</param>
/// <param name="Age">The member's place in age order: 1 is the oldest (the first to become Up); members not Up yet come last.</param>
/// <param name="Reachable">False when the failure detector of some member cannot reach it.</param>
public sealed record ClusterMemberInfo(
    [property: JsonPropertyName("address")] string Address,
    [property: JsonPropertyName("status")] string Status,
    [property: JsonPropertyName("roles")] IReadOnlyList<string> Roles,
    [property: JsonPropertyName("age")] int Age,
    [property: JsonPropertyName("reachable")] bool Reachable,
    [property: JsonPropertyName("leader")] bool Leader,
    [property: JsonPropertyName("self")] bool Self);

/// <summary>The body of <c>POST /api/v1/cluster/leave</c> and <c>/down</c>: <c>{"address":"akka.tcp://mlops@host:port"}</c>.</summary>
public sealed record MemberAddressRequest([property: JsonPropertyName("address")] string? Address);

/// <summary>
/// What leave or down did: the request was handed to the cluster, which carries it out through the
/// leader (<see cref="Action"/> <c>leave</c> or <c>down</c>); the member's status changes shortly after.
/// </summary>
public sealed record ClusterChangeResponse(
    [property: JsonPropertyName("address")] string Address,
    [property: JsonPropertyName("action")] string Action,
    [property: JsonPropertyName("previous_status")] string PreviousStatus);

/// <summary>The outcome of a leave or down request.</summary>
public abstract record MembershipChange
{
    private MembershipChange() { }

    public sealed record Accepted(ClusterChangeResponse Change) : MembershipChange;

    /// <summary>The address is well formed but no member of the cluster has it.</summary>
    public sealed record NotMember(string Message) : MembershipChange;

    /// <summary>The text is not an Akka address with a system, host and port.</summary>
    public sealed record InvalidAddress(string Message) : MembershipChange;
}

/// <summary>
/// The cluster membership behind <c>/api/v1/cluster</c>; the host implements it over Akka.Cluster so
/// this project needs no Akka types. Leave and down are audited with <paramref name="actor"/>.
/// </summary>
public interface IClusterMembership
{
    ClusterState Current();

    /// <summary>Asks the member to leave gracefully: its shards are handed off before it stops.</summary>
    Task<MembershipChange> LeaveAsync(string address, string actor);

    /// <summary>Declares the member down (for one that crashed or cannot be reached): it is removed without a hand-off.</summary>
    Task<MembershipChange> DownAsync(string address, string actor);
}
