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
        var deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(10));
        while (true)
        {
            var children = await supervisor.Ask<StreamSupervisor.Children>(StreamSupervisor.GetChildren.Instance, TimeSpan.FromSeconds(3));
            if (children.Refs.Count == 0) return;
            if (DateTime.UtcNow > deadline)
                Assert.Fail($"Stages still running: {string.Join(", ", children.Refs.Select(r => r.Path.Name))}");
            await Task.Delay(50);
        }
    }

    /// <summary>Waits until <paramref name="condition"/> holds, failing with <paramref name="what"/> after the timeout.</summary>
    public static async Task EventuallyAsync(Func<bool> condition, string what, TimeSpan? timeout = null, Func<object>? state = null)
    {
        var deadline = DateTime.UtcNow + (timeout ?? KafkaTestClient.DefaultTimeout);
        while (!condition())
        {
            if (DateTime.UtcNow > deadline) Assert.Fail($"Timed out waiting until {what}. State: {state?.Invoke()}");
            await Task.Delay(25);
        }
    }
}
