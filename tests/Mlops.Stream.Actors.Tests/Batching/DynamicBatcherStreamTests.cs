using Akka.Streams;
using Akka.Streams.Dsl;
using Mlops.Stream.Inference.Batching;
using Xunit.Abstractions;
using static Mlops.Stream.Actors.Tests.Batching.FakeModel;

namespace Mlops.Stream.Actors.Tests.Batching;

/// <summary>How the Kafka path uses the batcher: SelectAsync over EnqueueAsync backpressures instead of shedding.</summary>
public sealed class DynamicBatcherStreamTests(ITestOutputHelper output) : Akka.TestKit.Xunit2.TestKit(output: output)
{
    private static readonly TimeSpan Guard = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task A_stream_over_EnqueueAsync_is_held_back_by_a_full_queue_and_loses_nothing()
    {
        using var model = new FakeModel();
        model.Block();
        await using var batcher = new DynamicBatcher(model, new BatchingSettings { MaxBatchSize = 2, MaxQueueDelay = TimeSpan.Zero, MaxQueueSize = 2 });
        const int parallelism = 8;

        var done = Source.From(Enumerable.Range(0, 40))
            .SelectAsync(parallelism, i => batcher.EnqueueAsync(Request($"r{i}", i)))
            .RunWith(Sink.Seq<BatchResult>(), Sys.Materializer());

        // A batch is held in the model, two requests fill the queue, and the rest of the stream's
        // in-flight window waits for room rather than being refused.
        await AwaitConditionAsync(
            () => Task.FromResult(batcher.GetCounters() is { QueueDepth: 2 } c && c.Executing + c.QueueDepth + c.WaitingForRoom == parallelism),
            Guard,
            interval: TimeSpan.FromMilliseconds(10));
        Assert.Equal(0L, batcher.GetCounters().RejectedQueueFull);

        model.Release();
        var results = await done.WaitAsync(Guard);

        Assert.Equal(40, results.Count);
        Assert.All(results, r => Assert.True(r.IsServed, r.ToString()));
        Assert.Equal(Enumerable.Range(0, 40).Select(i => (float)i), results.Select(r => r.Outputs![0].Span<float>()[0]));
        Assert.All(model.Runs, run => Assert.InRange(run.Length, 1, 2));
    }
}
