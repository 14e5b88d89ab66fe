using Akka.Actor;
using Mlops.Stream.Actors.Serving;

namespace Mlops.Stream.Bench.Scenarios;

/// <summary>What the scenarios that drive replica actors directly share: waiting on a replica's status, and percentiles.</summary>
internal static class ReplicaBench
{
    /// <summary>Asks the replica's status until <paramref name="condition"/> holds; throws after a minute.</summary>
    public static async Task WaitForAsync(IActorRef replica, string entity, Func<ReplicaStatus, bool> condition)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromMinutes(1);
        while (!condition(await replica.Ask<ReplicaStatus>(new GetReplicaStatus(entity), TimeSpan.FromSeconds(10))))
        {
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"{entity} did not reach the expected state");
            await Task.Delay(10);
        }
    }

    /// <summary>The <paramref name="p"/> quantile (0..1) of ascending <paramref name="sorted"/> (nearest rank); 0 when empty.</summary>
    public static double Percentile(double[] sorted, double p) =>
        sorted.Length == 0 ? 0 : sorted[Math.Min(sorted.Length - 1, (int)Math.Ceiling(p * sorted.Length) - 1)];
}
