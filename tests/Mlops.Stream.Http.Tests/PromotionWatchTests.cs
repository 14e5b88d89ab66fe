using Mlops.Stream.Http.Internal;
using Mlops.Stream.Http.Tests.Support;
using Mlops.Stream.Inference.Gateway;

namespace Mlops.Stream.Http.Tests;

/// <summary>
/// A promotion counts as served only when every replica of the model in its plan that can be reached
/// serves the version, so a deployment script that waits knows the whole cluster moved.
/// </summary>
public sealed class PromotionWatchTests
{
    private const string Model = "fraud";
    private static readonly TimeSpan ShortWait = TimeSpan.FromMilliseconds(300);

    private readonly FakeInferenceGateway _gateway = new()
    {
        // The replica the node asks first (its own) already serves version 2.
        Models = [new ModelStatus(Model, [1, 2], 2, 2, ReplicaState.Ready, null, null)],
    };

    private static ReplicaInfo Replica(int index, int serving, bool reachable = true, bool planned = true) =>
        new($"{Model}#{index}", index, $"akka.tcp://mlops@10.0.0.{index + 1}:4053", index == 0, reachable, reachable ? ReplicaState.Ready : null)
        {
            ServingVersion = reachable ? serving : null,
            Planned = planned,
        };

    [Fact]
    public async Task While_one_replica_still_serves_the_old_version_the_promotion_is_pending_and_says_how_many_serve_it()
    {
        _gateway.Replicas[Model] = [Replica(0, serving: 2), Replica(1, serving: 1), Replica(2, serving: 2)];

        var outcome = await PromotionWatch.WaitAsync(_gateway, Model, 2, ShortWait, CancellationToken.None);

        var pending = Assert.IsType<PromotionOutcome.Pending>(outcome);
        Assert.Contains("2 of 3 replica(s) serve it", pending.Detail);
    }

    [Fact]
    public async Task Once_every_replica_serves_the_version_the_promotion_is_served()
    {
        _gateway.Replicas[Model] = [Replica(0, serving: 2), Replica(1, serving: 2), Replica(2, serving: 2)];

        Assert.IsType<PromotionOutcome.Serving>(await PromotionWatch.WaitAsync(_gateway, Model, 2, ShortWait, CancellationToken.None));
    }

    [Fact]
    public async Task Replicas_being_retired_or_on_lost_nodes_are_not_waited_for()
    {
        _gateway.Replicas[Model] =
        [
            Replica(0, serving: 2),
            Replica(1, serving: 1, reachable: false),
            Replica(3, serving: 1, planned: false),
        ];

        Assert.IsType<PromotionOutcome.Serving>(await PromotionWatch.WaitAsync(_gateway, Model, 2, ShortWait, CancellationToken.None));
    }
}
