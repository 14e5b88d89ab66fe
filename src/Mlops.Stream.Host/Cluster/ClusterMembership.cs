using Akka.Actor;
using Akka.Cluster;
using Mlops.Stream.Actors.Lifecycle;
using Mlops.Stream.Http;
using Mlops.Stream.Inference.Lifecycle;

namespace Mlops.Stream.Host.Cluster;

/// <summary>
/// Answers <c>/api/v1/cluster</c> from this node's view of the membership (Akka's
/// <see cref="Akka.Cluster.Cluster.State"/>, updated by gossip), and hands leave and down requests
/// to Akka.Cluster, which any member may issue for any other. Every request, refused or not, is
/// written to the audit log like the model lifecycle changes.
/// </summary>
public sealed class ClusterMembership(ActorSystem system, IAuditLog audit, TimeProvider? clock = null) : IClusterMembership
{
    private const string LeaveAction = "leave";
    private const string DownAction = "down";
    private readonly Akka.Cluster.Cluster _cluster = Akka.Cluster.Cluster.Get(system);
    private readonly TimeProvider _clock = clock ?? TimeProvider.System;

    public ClusterState Current()
    {
        var state = _cluster.State;
        var self = _cluster.SelfAddress;
        var members = state.Members
            .OrderBy(m => m, Member.AgeOrdering)
            .Select((m, index) => new ClusterMemberInfo(
                m.Address.ToString(),
                m.Status.ToString(),
                [.. m.Roles.Order(StringComparer.Ordinal)],
                // Akka's up-number itself is internal; its order is public as AgeOrdering.
                index + 1,
                !state.Unreachable.Contains(m),
                m.Address.Equals(state.Leader),
                m.Address.Equals(self)))
            .ToArray();
        return new ClusterState(
            self.ToString(),
            state.Leader?.ToString(),
            members,
            [.. state.Unreachable.Select(m => m.Address.ToString()).Order(StringComparer.Ordinal)]);
    }

    public Task<MembershipChange> LeaveAsync(string address, string actor) => ChangeAsync(LeaveAction, address, actor, _cluster.Leave);

    public Task<MembershipChange> DownAsync(string address, string actor) => ChangeAsync(DownAction, address, actor, _cluster.Down);

    private async Task<MembershipChange> ChangeAsync(string action, string text, string actor, Action<Address> change)
    {
        MembershipChange result;
        var members = _cluster.State.Members;
        if (!Address.TryParse(text, out var address) || address.Host is null || address.Port is null)
        {
            result = new MembershipChange.InvalidAddress(
                $"'{text}' is not a member address; it looks like akka.tcp://{_cluster.SelfAddress.System}@<host>:<port> (see GET /api/v1/cluster)");
        }
        else if (members.FirstOrDefault(m => m.Address.Equals(address)) is not { } member)
        {
            result = new MembershipChange.NotMember(
                $"{address} is not a member of the cluster (members: {string.Join(", ", members.Select(m => m.Address))})");
        }
        else
        {
            change(address);
            result = new MembershipChange.Accepted(new ClusterChangeResponse(address.ToString(), action, member.Status.ToString()));
        }
        await AuditAsync(actor, action, text, result).ConfigureAwait(false);
        return result;
    }

    /// <summary>
    /// Not cancellable on purpose: once the cluster has the request, its record must not be cut short
    /// because the caller hung up (the model lifecycle audits the same way).
    /// </summary>
    private Task AuditAsync(string actor, string action, string address, MembershipChange result)
    {
        var (outcome, detail) = result switch
        {
            MembershipChange.Accepted a => ("ok", $"{a.Change.Address} (was {a.Change.PreviousStatus})"),
            MembershipChange.NotMember n => ("not_found", n.Message),
            MembershipChange.InvalidAddress i => ("invalid", i.Message),
            _ => ("unknown", address),
        };
        // No model: cluster changes are keyed by nothing on the audit topic.
        return audit.WriteAsync(new AuditEvent(Guid.NewGuid().ToString("N"), _clock.GetUtcNow(), actor, $"cluster-{action}", null, null, outcome, detail));
    }
}
