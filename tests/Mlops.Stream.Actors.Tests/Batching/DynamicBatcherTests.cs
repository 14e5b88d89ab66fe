using Mlops.Stream.Actors.Tests.Support;
using Mlops.Stream.Inference.Batching;
using Mlops.Stream.Inference.Onnx;
using Mlops.Stream.Inference.Wire;
using static Mlops.Stream.Actors.Tests.Batching.FakeModel;

namespace Mlops.Stream.Actors.Tests.Batching;

/// <summary>
/// Batching behaviour with a model double that tests can hold and watch, and a manual clock, so
/// nothing depends on how fast this machine is: a "long" delay is one the clock never reaches.
/// </summary>
public sealed class DynamicBatcherTests
{
    /// <summary>Hang guard for awaited results; never an assertion on duration.</summary>
    private static readonly TimeSpan Guard = TimeSpan.FromSeconds(30);

    private static readonly TimeSpan NeverReached = TimeSpan.FromMinutes(1);

    private readonly ManualTimeProvider _time = new();

    /// <summary>A batcher that waits up to <paramref name="delay"/> for batch-mates (Triton's way), so tests can gather a batch at will.</summary>
    private DynamicBatcher Batcher(IInferenceModel model, int maxBatch, TimeSpan delay, int maxQueue, Action<BatchReport>? onBatch = null) =>
        new(model, new BatchingSettings { MaxBatchSize = maxBatch, MaxQueueDelay = delay, MaxQueueSize = maxQueue, DispatchWhenIdle = false }, _time, onBatch: onBatch);

    /// <summary>A batcher with the default dispatch: at once when the model is free.</summary>
    private DynamicBatcher EagerBatcher(IInferenceModel model, int maxBatch, int maxQueue) =>
        new(model, new BatchingSettings { MaxBatchSize = maxBatch, MaxQueueDelay = NeverReached, MaxQueueSize = maxQueue }, _time);

    private static async Task<BatchResult[]> All(params Task<BatchResult>[] tasks) => await Task.WhenAll(tasks).WaitAsync(Guard);

    private static float Y(BatchResult result) => Assert.Single(result.Outputs!).Span<float>()[0];

    [Fact]
    public async Task A_full_batch_is_dispatched_at_once_as_one_run_without_waiting_for_the_delay()
    {
        using var model = new FakeModel();
        var reports = new List<BatchReport>();
        await using var batcher = Batcher(model, maxBatch: 4, NeverReached, maxQueue: 8, onBatch: reports.Add);

        var results = await All([.. Enumerable.Range(0, 4).Select(i => batcher.Enqueue(Request($"r{i}", i)))]);

        Assert.Equal(["r0", "r1", "r2", "r3"], Assert.Single(model.Runs));
        Assert.All(results, r => Assert.True(r.IsServed));
        Assert.Equal([0f, 1f, 2f, 3f], results.Select(Y));
        Assert.All(results, r => Assert.Equal(new BatchTimings(TimeSpan.Zero, TimeSpan.Zero, 4, 4), r.Timings));
        Assert.All(results, r => Assert.Equal(("fake", 1), (r.ModelName, r.ModelVersion)));
        var counters = batcher.GetCounters();
        Assert.Equal((1L, 4L, 0, 0), (counters.BatchesRun, counters.RequestsRun, counters.QueueDepth, counters.InFlight));
        Assert.Equal([4], counters.RecentBatchSizes);
        Assert.Equal(new BatchReport(1, 4, 4, TimeSpan.Zero, 4, 0, 0, 0), Assert.Single(reports));
    }

    [Fact]
    public async Task A_request_to_an_idle_model_runs_at_once_without_waiting_the_delay()
    {
        using var model = new FakeModel();
        await using var batcher = EagerBatcher(model, maxBatch: 8, maxQueue: 8);

        // The clock never moves: a batcher that waited for the delay would never answer.
        var result = await batcher.Enqueue(Request("alone", 3)).WaitAsync(Guard);

        Assert.Equal(3f, Y(result));
        Assert.Equal(["alone"], Assert.Single(model.Runs));
        Assert.Equal(new BatchTimings(TimeSpan.Zero, TimeSpan.Zero, 1, 1), result.Timings);
    }

    [Fact]
    public async Task Requests_that_queue_while_a_batch_runs_make_the_next_batch_up_to_the_batch_size()
    {
        using var model = new FakeModel();
        await using var batcher = EagerBatcher(model, maxBatch: 4, maxQueue: 16);

        model.Block();
        var first = batcher.Enqueue(Request("first"));
        Assert.Equal(["first"], await model.NextRunStartedAsync());
        var queued = Enumerable.Range(0, 6).Select(i => batcher.Enqueue(Request($"q{i}", i))).ToArray();
        Assert.Equal(6, batcher.QueueDepth);

        model.Release();
        await All([first, .. queued]);

        Assert.Equal(
            [["first"], ["q0", "q1", "q2", "q3"], ["q4", "q5"]],
            model.Runs.ToArray());
    }

    [Fact]
    public async Task A_request_larger_than_a_batch_runs_in_parts_and_gets_its_outputs_joined_in_row_order()
    {
        using var model = new FakeModel(version: 2);
        await using var batcher = EagerBatcher(model, maxBatch: 4, maxQueue: 16);
        var rows = Enumerable.Range(0, 10).Select(i => (float)i).ToArray();

        var result = await batcher.Enqueue(new InferenceRequest("tall", [Tensor.Create("x", rows, 10, 1)])).WaitAsync(Guard);

        Assert.True(result.IsServed, result.ToString());
        var y = Assert.Single(result.Outputs!);
        Assert.Equal([10L, 1L], y.Shape.ToArray());
        Assert.Equal(rows.Select(v => v * 2), y.Span<float>().ToArray());
        Assert.Equal(3, model.Runs.Count);
        Assert.All(model.Runs, run => Assert.Equal(["tall"], run));
        Assert.Equal(2, result.ModelVersion);
        Assert.Equal((3L, 3L), (batcher.GetCounters().BatchesRun, batcher.GetCounters().RequestsRun));
    }

    [Fact]
    public async Task A_part_of_a_split_request_that_fails_fails_the_whole_request()
    {
        using var model = new FakeModel { Fail = true };
        await using var batcher = EagerBatcher(model, maxBatch: 2, maxQueue: 16);

        var result = await batcher.Enqueue(Request("tall", rows: 5)).WaitAsync(Guard);

        Assert.False(result.IsServed);
        Assert.Equal(BatchRejectionReason.ModelFailed, result.Rejection!.Reason);
    }

    [Fact]
    public async Task A_partial_batch_is_dispatched_when_the_oldest_request_has_waited_the_delay()
    {
        using var model = new FakeModel();
        await using var batcher = Batcher(model, maxBatch: 8, TimeSpan.FromMilliseconds(100), maxQueue: 8);

        var first = batcher.Enqueue(Request("first"));
        await _time.WhenTimerArmedAsync().WaitAsync(Guard);
        _time.Advance(TimeSpan.FromMilliseconds(60));
        var second = batcher.Enqueue(Request("second"));
        _time.Advance(TimeSpan.FromMilliseconds(39));

        Assert.Empty(model.Runs);
        Assert.Equal(2, batcher.QueueDepth);

        _time.Advance(TimeSpan.FromMilliseconds(1));
        var results = await All(first, second);

        Assert.Equal(["first", "second"], Assert.Single(model.Runs));
        Assert.Equal(TimeSpan.FromMilliseconds(100), results[0].Timings!.QueueTime);
        Assert.Equal(TimeSpan.FromMilliseconds(40), results[1].Timings!.QueueTime);
        Assert.All(results, r => Assert.Equal(2, r.Timings!.BatchSize));
    }

    [Fact]
    public async Task Requests_beyond_a_full_batch_wait_for_the_next_one_and_rows_count_toward_the_batch_size()
    {
        using var model = new FakeModel();
        await using var batcher = Batcher(model, maxBatch: 4, NeverReached, maxQueue: 8);

        var tasks = new[] { batcher.Enqueue(Request("a", rows: 3)), batcher.Enqueue(Request("b", rows: 2)), batcher.Enqueue(Request("c", rows: 2)) };
        var results = await All(tasks);

        Assert.Equal([["a"], ["b", "c"]], model.Runs);
        Assert.Equal([(1, 3L), (2, 4L), (2, 4L)], results.Select(r => (r.Timings!.BatchSize, r.Timings.BatchRows)));
        Assert.Equal([3L, 2L, 2L], results.Select(r => r.Outputs![0].Rows));
    }

    [Fact]
    public async Task A_full_queue_rejects_at_once_with_queue_full()
    {
        using var model = new FakeModel();
        model.Block();
        await using var batcher = Batcher(model, maxBatch: 1, TimeSpan.Zero, maxQueue: 2);
        var running = batcher.Enqueue(Request("running"));
        await model.NextRunStartedAsync();
        var queued = new[] { batcher.Enqueue(Request("q1")), batcher.Enqueue(Request("q2")) };

        var rejected = await batcher.Enqueue(Request("overflow")).WaitAsync(Guard);

        Assert.False(rejected.IsServed);
        Assert.Equal(BatchRejectionReason.QueueFull, rejected.Rejection!.Reason);
        Assert.Equal("queue_full", rejected.Rejection.WireCode);
        Assert.Contains("'overflow'", rejected.Rejection.Message);
        Assert.Null(rejected.Timings);
        var counters = batcher.GetCounters();
        Assert.Equal((2, 1, 3, 1L), (counters.QueueDepth, counters.Executing, counters.InFlight, counters.RejectedQueueFull));

        model.Release();
        var served = await All([running, .. queued]);
        Assert.All(served, r => Assert.True(r.IsServed));
        Assert.Equal([["running"], ["q1"], ["q2"]], model.Runs);
    }

    [Fact]
    public async Task EnqueueAsync_waits_for_room_instead_of_rejecting_and_keeps_arrival_order()
    {
        using var model = new FakeModel();
        model.Block();
        await using var batcher = Batcher(model, maxBatch: 1, TimeSpan.Zero, maxQueue: 1);
        var running = batcher.Enqueue(Request("running"));
        await model.NextRunStartedAsync();
        var queued = batcher.Enqueue(Request("queued"));

        var waiting = new[] { batcher.EnqueueAsync(Request("w1")), batcher.EnqueueAsync(Request("w2")) };
        var shed = await batcher.Enqueue(Request("http")).WaitAsync(Guard);

        Assert.Equal(BatchRejectionReason.QueueFull, shed.Rejection!.Reason);
        Assert.All(waiting, t => Assert.False(t.IsCompleted));
        Assert.Equal((1, 2), (batcher.GetCounters().QueueDepth, batcher.GetCounters().WaitingForRoom));

        model.Release();
        var results = await All([running, queued, .. waiting]);

        Assert.All(results, r => Assert.True(r.IsServed));
        Assert.Equal([["running"], ["queued"], ["w1"], ["w2"]], model.Runs);
    }

    [Fact]
    public async Task Cancelling_a_waiting_or_queued_request_removes_only_that_request()
    {
        using var model = new FakeModel();
        model.Block();
        await using var batcher = Batcher(model, maxBatch: 1, TimeSpan.Zero, maxQueue: 1);
        var running = batcher.Enqueue(Request("running"));
        await model.NextRunStartedAsync();
        using var queuedCancel = new CancellationTokenSource();
        using var waitingCancel = new CancellationTokenSource();
        var queued = batcher.Enqueue(Request("queued"), queuedCancel.Token);
        var waiting = batcher.EnqueueAsync(Request("waiting"), waitingCancel.Token);
        var admitted = batcher.EnqueueAsync(Request("admitted"));

        await waitingCancel.CancelAsync();
        await queuedCancel.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => queued.WaitAsync(Guard));
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => waiting.WaitAsync(Guard));
        Assert.Equal((1, 0), (batcher.GetCounters().QueueDepth, batcher.GetCounters().WaitingForRoom));
        model.Release();
        var results = await All(running, admitted);
        Assert.All(results, r => Assert.True(r.IsServed));
        Assert.Equal([["running"], ["admitted"]], model.Runs);
    }

    [Fact]
    public async Task A_bad_request_is_refused_alone_while_its_batch_mates_are_served_together()
    {
        using var model = new FakeModel();
        await using var batcher = Batcher(model, maxBatch: 3, NeverReached, maxQueue: 8);
        var wrongWidth = new InferenceRequest("wide", [Tensor.Create("x", new float[2], 1, 2)]);
        var nan = Request("nan", float.NaN);

        var a = batcher.Enqueue(Request("a", 1));
        var bad = await batcher.Enqueue(wrongWidth).WaitAsync(Guard);
        var b = batcher.Enqueue(Request("b", 2));
        var notFinite = await batcher.Enqueue(nan).WaitAsync(Guard);
        var tooManyRows = await batcher.Enqueue(Request("tall", rows: 3 * 8 + 1)).WaitAsync(Guard);
        var c = batcher.Enqueue(Request("c", 3));
        var results = await All(a, b, c);

        Assert.Equal("shape_mismatch", bad.Error!.WireCode);
        Assert.Contains("'wide'", bad.Error.Message);
        Assert.Equal("non_finite", notFinite.Error!.WireCode);
        Assert.Equal("shape_mismatch", tooManyRows.Error!.WireCode);
        Assert.Contains("at most 24 rows in one request (8 queued batches of 3 rows)", tooManyRows.Error.Message);
        Assert.All([bad, notFinite, tooManyRows], r => Assert.Null(r.Rejection));
        Assert.Equal(["a", "b", "c"], Assert.Single(model.Runs));
        Assert.Equal([1f, 2f, 3f], results.Select(Y));
        Assert.Equal(3L, batcher.GetCounters().Refused);
    }

    [Fact]
    public async Task A_failing_model_run_rejects_its_batch_with_model_failed_and_the_batcher_carries_on()
    {
        using var model = new FakeModel { Fail = true };
        await using var batcher = Batcher(model, maxBatch: 2, NeverReached, maxQueue: 4);

        var failed = await All(batcher.Enqueue(Request("a")), batcher.Enqueue(Request("b")));
        model.Fail = false;
        var served = await All(batcher.Enqueue(Request("c")), batcher.Enqueue(Request("d")));

        Assert.All(failed, r => Assert.Equal("model_failed", r.Rejection!.WireCode));
        Assert.All(failed, r => Assert.IsType<InvalidOperationException>(r.Rejection!.Cause));
        Assert.All(failed, r => Assert.Equal(2, r.Timings!.BatchSize));
        Assert.All(served, r => Assert.True(r.IsServed));
        Assert.Equal(2L, batcher.GetCounters().FailedModelRuns);
    }

    [Fact]
    public async Task A_request_the_model_cannot_run_fails_alone_and_the_others_of_its_batch_are_served()
    {
        using var model = new FakeModel { Poison = 13f };
        await using var batcher = Batcher(model, maxBatch: 4, NeverReached, maxQueue: 8);

        var results = await All(batcher.Enqueue(Request("a")), batcher.Enqueue(Request("poison", 13f)), batcher.Enqueue(Request("b")),
            batcher.Enqueue(Request("c")));

        // The batch failed as a whole, then each ran alone: only the poison is refused.
        Assert.Equal([["a", "poison", "b", "c"], ["a"], ["poison"], ["b"], ["c"]], model.Runs);
        Assert.Equal([true, false, true, true], results.Select(r => r.IsServed));
        var refused = results[1].Rejection!;
        Assert.Equal("model_failed", refused.WireCode);
        Assert.Contains("cannot run 13", refused.Message, StringComparison.Ordinal);
        Assert.Equal(4, results[1].Timings!.BatchSize);
        Assert.Equal(1L, batcher.GetCounters().FailedModelRuns);
    }

    [Fact]
    public async Task StopAsync_drains_queued_requests_and_rejects_new_and_waiting_ones_with_shutting_down()
    {
        using var model = new FakeModel();
        model.Block();
        var batcher = Batcher(model, maxBatch: 2, TimeSpan.Zero, maxQueue: 2);
        var running = batcher.Enqueue(Request("running"));
        await model.NextRunStartedAsync();
        var queued = new[] { batcher.Enqueue(Request("q1")), batcher.Enqueue(Request("q2")) };
        var waiting = batcher.EnqueueAsync(Request("waiting"));

        var stopping = batcher.StopAsync();
        var late = await batcher.Enqueue(Request("late")).WaitAsync(Guard);
        var refusedWhileWaiting = await waiting.WaitAsync(Guard);

        Assert.Equal("shutting_down", late.Rejection!.WireCode);
        Assert.Equal("shutting_down", refusedWhileWaiting.Rejection!.WireCode);
        Assert.False(stopping.IsCompleted);
        model.Release();
        await stopping.WaitAsync(Guard);

        var drained = await All([running, .. queued]);
        Assert.All(drained, r => Assert.True(r.IsServed));
        Assert.Equal([["running"], ["q1", "q2"]], model.Runs);
        Assert.True(batcher.Completion.IsCompleted);
        Assert.Equal(2L, batcher.GetCounters().RejectedShuttingDown);
        await batcher.DisposeAsync();
    }

    [Fact]
    public async Task Dispose_rejects_queued_requests_at_once_and_returns_after_the_running_batch()
    {
        using var model = new FakeModel();
        model.Block();
        var batcher = Batcher(model, maxBatch: 1, TimeSpan.Zero, maxQueue: 2);
        var running = batcher.Enqueue(Request("running"));
        await model.NextRunStartedAsync();
        var queued = batcher.Enqueue(Request("queued"));

        var disposing = batcher.DisposeAsync().AsTask();
        var rejected = await queued.WaitAsync(Guard);

        Assert.Equal(BatchRejectionReason.ShuttingDown, rejected.Rejection!.Reason);
        Assert.Contains("stopped before request 'queued' ran", rejected.Rejection.Message);
        Assert.False(disposing.IsCompleted);
        model.Release();
        await disposing.WaitAsync(Guard);
        Assert.True((await running.WaitAsync(Guard)).IsServed);
        Assert.Equal([["running"]], model.Runs);
    }

    [Fact]
    public async Task A_cancelled_stop_rejects_what_is_still_queued()
    {
        using var model = new FakeModel();
        model.Block();
        var batcher = Batcher(model, maxBatch: 1, TimeSpan.Zero, maxQueue: 2);
        var running = batcher.Enqueue(Request("running"));
        await model.NextRunStartedAsync();
        var queued = batcher.Enqueue(Request("queued"));
        using var deadline = new CancellationTokenSource();

        var stopping = batcher.StopAsync(deadline.Token);
        await deadline.CancelAsync();

        Assert.Equal("shutting_down", (await queued.WaitAsync(Guard)).Rejection!.WireCode);
        model.Release();
        await stopping.WaitAsync(Guard);
        Assert.True((await running.WaitAsync(Guard)).IsServed);
        Assert.Equal([["running"]], model.Runs);
    }

    [Fact]
    public async Task With_two_instances_a_second_batch_runs_while_the_first_is_still_running()
    {
        using var model = new FakeModel();
        model.Block();
        await using var batcher = new DynamicBatcher(model, new BatchingSettings { MaxBatchSize = 4, MaxQueueSize = 8, Instances = 2 }, _time);

        var first = batcher.Enqueue(Request("first"));
        Assert.Equal(["first"], await model.NextRunStartedAsync());
        var second = batcher.Enqueue(Request("second"));
        Assert.Equal(["second"], await model.NextRunStartedAsync());
        Assert.Equal(2, batcher.InFlight);

        // Both instances busy: a third request waits for one of them.
        var third = batcher.Enqueue(Request("third"));
        Assert.Equal(1, batcher.QueueDepth);
        model.Release();
        var results = await All(first, second, third);

        Assert.All(results, r => Assert.True(r.IsServed));
        Assert.Equal(3, model.Runs.Count);
        Assert.Equal(0, batcher.InFlight);
    }

    [Fact]
    public async Task With_several_instances_a_swapped_out_model_is_handed_back_only_after_all_of_its_batches_end()
    {
        using var v1 = new FakeModel(version: 1);
        using var v2 = new FakeModel(version: 2);
        v1.Block();
        // Three instances: two run (and hold) batches on the old model, the third serves the new one meanwhile.
        var batcher = new DynamicBatcher(v1, new BatchingSettings { MaxBatchSize = 1, MaxQueueSize = 4, Instances = 3 }, _time);
        var a = batcher.Enqueue(Request("a", 10));
        await v1.NextRunStartedAsync();
        var b = batcher.Enqueue(Request("b", 10));
        await v1.NextRunStartedAsync();

        var swapped = batcher.SwapModelAsync(v2);
        var onNew = await batcher.Enqueue(Request("c", 10)).WaitAsync(Guard);

        Assert.Equal((2, 20f), (onNew.ModelVersion, Y(onNew)));
        Assert.False(swapped.IsCompleted);
        v1.Release();
        Assert.Same(v1, await swapped.WaitAsync(Guard));
        Assert.All(await All(a, b), r => Assert.Equal(1, r.ModelVersion));
        await batcher.StopAsync().WaitAsync(Guard);
        Assert.True(batcher.Completion.IsCompleted);
    }

    [Fact]
    public async Task A_latency_objective_shrinks_the_batch_after_a_slow_batch_and_grows_it_again_after_fast_full_ones()
    {
        using var model = new FakeModel();
        await using var batcher = new DynamicBatcher(model,
            new BatchingSettings { MaxBatchSize = 10, MaxQueueSize = 64, LatencyObjective = TimeSpan.FromMilliseconds(10) }, _time);
        Assert.Equal(10, batcher.GetCounters().BatchLimit);

        // A batch that runs 20 ms misses the 10 ms objective: the limit backs off by 10%.
        model.Block();
        var slow = batcher.Enqueue(Request("slow"));
        await model.NextRunStartedAsync();
        _time.Advance(TimeSpan.FromMilliseconds(20));
        var queued = Enumerable.Range(0, 20).Select(i => batcher.Enqueue(Request($"q{i}", i))).ToArray();
        model.Release();
        await All([slow, .. queued]);

        // The next batch took only 9 rows; every fast full batch since added one row back, up to the max.
        Assert.Equal(["slow"], model.Runs.First());
        Assert.Equal([9, 10, 1], model.Runs.Skip(1).Select(r => r.Length));
        Assert.Equal(10, batcher.GetCounters().BatchLimit);
    }

    [Fact]
    public async Task Without_a_latency_objective_the_batch_limit_stays_the_max_batch_size()
    {
        using var model = new FakeModel();
        await using var batcher = EagerBatcher(model, maxBatch: 4, maxQueue: 8);

        model.Block();
        var slow = batcher.Enqueue(Request("slow"));
        await model.NextRunStartedAsync();
        _time.Advance(TimeSpan.FromSeconds(5));
        model.Release();
        await slow.WaitAsync(Guard);

        Assert.Equal(4, batcher.GetCounters().BatchLimit);
    }

    [Fact]
    public async Task A_swap_lets_the_running_batch_finish_on_the_old_model_and_hands_it_back_afterwards()
    {
        using var v1 = new FakeModel(version: 1);
        using var v2 = new FakeModel(version: 2);
        v1.Block();
        await using var batcher = Batcher(v1, maxBatch: 1, TimeSpan.Zero, maxQueue: 4);
        var onOld = batcher.Enqueue(Request("on-old", 10));
        await v1.NextRunStartedAsync();
        var queued = batcher.Enqueue(Request("queued", 10));

        var swapped = batcher.SwapModelAsync(v2);

        Assert.False(swapped.IsCompleted);
        Assert.Same(v2, batcher.Model);
        v1.Release();
        Assert.Same(v1, await swapped.WaitAsync(Guard));
        var results = await All(onOld, queued);
        Assert.Equal((1, 10f), (results[0].ModelVersion, Y(results[0])));
        Assert.Equal((2, 20f), (results[1].ModelVersion, Y(results[1])));
        Assert.Equal([["on-old"]], v1.Runs);
        Assert.Equal([["queued"]], v2.Runs);
    }

    [Fact]
    public async Task A_swap_while_idle_hands_the_old_model_back_at_once_and_refuses_another_models_name()
    {
        using var v1 = new FakeModel(version: 1);
        using var v2 = new FakeModel(version: 2);
        using var other = new FakeModel(version: 1, name: "other");
        await using var batcher = Batcher(v1, maxBatch: 1, TimeSpan.Zero, maxQueue: 4);

        var old = await batcher.SwapModelAsync(v2).WaitAsync(Guard);

        Assert.Same(v1, old);
        var error = Assert.Throws<ArgumentException>(() => { _ = batcher.SwapModelAsync(other); });
        Assert.Contains("'fake'", error.Message);
        Assert.Equal(2, (await batcher.Enqueue(Request("r")).WaitAsync(Guard)).ModelVersion);
    }
}
