using System.Collections.Concurrent;
using Mlops.Stream.Actors.Tests.Support;
using Mlops.Stream.Demo;
using Mlops.Stream.Inference.Batching;
using Mlops.Stream.Inference.Onnx;
using Mlops.Stream.Inference.Wire;

namespace Mlops.Stream.Actors.Tests.Batching;

/// <summary>The batcher in front of the real demo model, on the real clock: what callers get back must not depend on batching.</summary>
public sealed class DynamicBatcherOnnxTests : IDisposable
{
    private static readonly TimeSpan Guard = TimeSpan.FromSeconds(30);
    private readonly OnnxModel _model = OnnxModel.Load(
        "fraud-demo", 1, DemoFixture.Model.OnnxModel, new OnnxModelOptions { Device = ExecutionDevice.Cpu, IntraOpThreads = 1 });

    public void Dispose() => _model.Dispose();

    private static InferenceRequest Rows(string id, int start, int count) =>
        new(id, [Tensor.Create("features", DemoFixture.Model.HoldOut.Slice(start, count).Features, count, FraudDataset.FeatureCount)]);

    [Fact]
    public async Task Outputs_of_a_batch_equal_the_outputs_of_running_each_request_alone()
    {
        InferenceRequest[] requests = [Rows("a", 0, 1), Rows("b", 1, 3), Rows("c", 4, 2), Rows("d", 6, 1), Rows("e", 7, 1)];
        // Waiting (a delay never reached, not dispatching when idle) gathers all five into one batch.
        var settings = new BatchingSettings { MaxBatchSize = 8, MaxQueueDelay = BatchingSettings.MaxQueueDelayLimit, MaxQueueSize = 8, DispatchWhenIdle = false };
        await using var batcher = new DynamicBatcher(_model, settings);

        var results = await Task.WhenAll(requests.Select(r => batcher.Enqueue(r))).WaitAsync(Guard);

        for (var i = 0; i < requests.Length; i++)
        {
            var single = Assert.Single(_model.Run([requests[i]]));
            Assert.True(results[i].IsServed, results[i].ToString());
            Assert.Equal((5, 8L), (results[i].Timings!.BatchSize, results[i].Timings!.BatchRows));
            Assert.Equal(["probabilities", "label"], results[i].Outputs!.Select(o => o.Name));
            Assert.Equal(single.Outputs![0].Shape.ToArray(), results[i].Outputs![0].Shape.ToArray());
            AssertClose(single.Outputs[0].Span<float>(), results[i].Outputs![0].Span<float>());
            Assert.Equal(single.Outputs[1].Span<long>().ToArray(), results[i].Outputs![1].Span<long>().ToArray());
        }

        Assert.Equal([5], batcher.GetCounters().RecentBatchSizes);
    }

    [Fact]
    public async Task On_the_system_clock_a_lone_request_is_served_by_the_delay_timer()
    {
        var settings = BatchingSettings.FromHints(DemoFixture.Model.Registration.Batching) with { DispatchWhenIdle = false };
        await using var batcher = new DynamicBatcher(_model, settings);

        var result = await batcher.Enqueue(Rows("lone", 0, 1)).WaitAsync(Guard);

        Assert.True(result.IsServed, result.ToString());
        Assert.Equal((1, 1L), (result.Timings.BatchSize, result.Timings.BatchRows));
    }

    [Fact]
    public async Task Concurrent_callers_each_get_exactly_their_own_result_and_batches_never_exceed_the_limit()
    {
        const int callers = 4;
        const int perCaller = 100;
        var sizes = new ConcurrentBag<long>();
        var settings = new BatchingSettings { MaxBatchSize = 16, MaxQueueDelay = TimeSpan.FromMilliseconds(1), MaxQueueSize = 16 };
        await using var batcher = new DynamicBatcher(_model, settings, onBatch: r => sizes.Add(r.BatchRows));
        var expected = _model.Run([.. Enumerable.Range(0, 20).Select(i => Rows($"x{i}", i, 1))]);

        // Each caller fires all its requests without waiting, so the queue overflows: callers of
        // EnqueueAsync (even) must wait for room, callers of Enqueue (odd) may be shed.
        var work = Enumerable.Range(0, callers).Select(c => Task.Run(async () =>
        {
            var own = new List<(int Row, Task<BatchResult> Result)>();
            for (var i = 0; i < perCaller; i++)
            {
                var row = (c * perCaller + i) % 20;
                var request = Rows($"{c}-{i}", row, 1);
                own.Add((row, c % 2 == 0 ? batcher.EnqueueAsync(request) : batcher.Enqueue(request)));
            }

            await Task.WhenAll(own.Select(o => o.Result)).ConfigureAwait(false);
            return own.Select(o => (Caller: c, o.Row, Result: o.Result.Result)).ToArray();
        }));
        var results = (await Task.WhenAll(work).WaitAsync(Guard)).SelectMany(r => r).ToArray();

        Assert.Equal(callers * perCaller, results.Length);
        foreach (var (caller, row, result) in results)
        {
            if (result.IsServed)
            {
                AssertClose(expected[row].Outputs![0].Span<float>(), result.Outputs[0].Span<float>());
            }
            else
            {
                Assert.True(caller % 2 == 1, $"a caller waiting for room was refused: {result}");
                Assert.Equal(BatchRejectionReason.QueueFull, result.Rejection!.Reason);
            }
        }

        Assert.All(sizes, s => Assert.InRange(s, 1, 16));
        var counters = batcher.GetCounters();
        Assert.Equal(results.Count(r => r.Result.IsServed), counters.RequestsRun);
        Assert.Equal(0, counters.InFlight);
    }

    private static void AssertClose(ReadOnlySpan<float> expected, ReadOnlySpan<float> actual)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (var i = 0; i < expected.Length; i++)
        {
            Assert.True(Math.Abs(expected[i] - actual[i]) <= 1e-6, $"element {i}: {expected[i]} vs {actual[i]}");
        }
    }
}
