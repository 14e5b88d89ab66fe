using Akka.Actor;
using Akka.Streams;
using Akka.Streams.Implementation;

namespace Mlops.Stream.Kafka.Tests.Infrastructure;

/// <summary>
/// Akka.Streams.TestKit's "all stages stopped" check (that package is not on the feed): every
/// stream actor under the materializer's supervisor must be gone.
/// </summary>
public static class StreamAssertions
{
    public static async Task AssertAllStagesStoppedAsync(this IMaterializer materializer, TimeSpan? timeout = null)
    {
        var supervisor = ((ActorMaterializerImpl)materializer).Supervisor;
        await Eventually.ReadsAsync(() => supervisor.Ask<StreamSupervisor.Children>(StreamSupervisor.GetChildren.Instance, TimeSpan.FromSeconds(3)),
            children => children.Refs.Count == 0, "every stage has stopped", timeout ?? TimeSpan.FromSeconds(10),
            children => $"still running: {string.Join(", ", children.Refs.Select(r => r.Path.Name))}");
    }

    /// <summary>Waits until <paramref name="condition"/> holds, failing with <paramref name="what"/> after the timeout.</summary>
    public static Task EventuallyAsync(Func<bool> condition, string what, TimeSpan? timeout = null, Func<object>? state = null) =>
        Eventually.HoldsAsync(condition, what, timeout ?? KafkaTestClient.DefaultTimeout, state);
}
