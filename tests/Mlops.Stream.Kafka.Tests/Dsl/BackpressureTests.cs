using Akka;
using Akka.Streams.Dsl;
using Confluent.Kafka;
using Mlops.Stream.Kafka.Dsl;
using Mlops.Stream.Kafka.Settings;
using Mlops.Stream.Kafka.Tests.Infrastructure;
using Xunit.Abstractions;

namespace Mlops.Stream.Kafka.Tests.Dsl;

[Collection(KafkaCollection.Name)]
public sealed class BackpressureTests(KafkaFixture kafka, ITestOutputHelper output) : StreamTestBase(kafka, output)
{
    [Fact]
    public async Task A_stalled_downstream_pauses_every_partition_and_buffers_no_more_than_the_bound()
    {
        const int partitions = 4, count = 3_000, bufferSize = 16;
        var input = await Kafka.CreateTopicAsync("bp-in", partitions);
        var group = Kafka.NewGroupId("bp");
        await KafkaTestClient.ProduceAsync(Kafka.BootstrapServers, input, count);

        // Downstream takes one element and then waits for the test to open the gate.
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var control = KafkaConsumer.SourceWithOffsetContext(ConsumerSettingsFor(group).WithMaxBufferSize(bufferSize), Subscriptions.Topics(input))
            .AsSource()
            .SelectAsync(1, async pair => { await gate.Task; return pair; })
            .ToMaterialized(Committer.SinkWithOffsetContext<ConsumeResult<string, string>>(CommitterSettings.Default), Keep.Both)
            .MapMaterializedValue(DrainingControl<Done>.Create)
            .Run(Materializer);

        await StreamAssertions.EventuallyAsync(
            () => control.Metrics is { AssignedPartitions.Count: partitions, PausedPartitions.Count: partitions, Buffered: >= bufferSize },
            "the buffer is full and all partitions are paused", state: () => control.Metrics);
        var stalled = control.Metrics;
        Output.WriteLine($"stalled: consumed {stalled.Consumed}, emitted {stalled.Emitted}, buffered {stalled.Buffered}, pauses {stalled.Pauses}");
        // The bound: the buffer, plus at most one record fetched in the poll that assigned the partitions.
        Assert.True(stalled.BufferHighWatermark <= bufferSize + 1, $"buffer reached {stalled.BufferHighWatermark}");
        // Everything consumed is either emitted (at most a few stream buffers' worth) or in the bounded buffer.
        Assert.Equal(stalled.Consumed, stalled.Emitted + stalled.Buffered);
        Assert.InRange(stalled.Consumed, bufferSize, bufferSize + 64);
        // Nothing is committed, so the lag measured from the consumer is the whole topic, even
        // though paused partitions are not fetched.
        await StreamAssertions.EventuallyAsync(() => control.Metrics.Lag is { Count: partitions } lag && lag.Values.Sum() == count,
            "the consumer measures the whole topic as lag", state: () => string.Join(", ", control.Metrics.Lag));

        gate.SetResult();
        await StreamAssertions.EventuallyAsync(() => control.Metrics.Completed >= count, "every record completed after the gate opened", state: () => control.Metrics);
        Assert.Empty(control.Metrics.PausedPartitions);
        await StreamAssertions.EventuallyAsync(() => control.Metrics.Lag is { Count: partitions } lag && lag.Values.All(l => l == 0),
            "the lag falls to zero once everything is committed", state: () => string.Join(", ", control.Metrics.Lag));
        await control.DrainAndShutdown();

        Assert.True(control.Metrics.BufferHighWatermark <= bufferSize + 1);
        Assert.Equal(OffsetProbe.EndOffsets(Kafka.BootstrapServers, input, partitions),
                     OffsetProbe.Committed(Kafka.BootstrapServers, group, input, partitions));
        await Materializer.AssertAllStagesStoppedAsync();
    }

    [Fact]
    public async Task A_slow_downstream_wakes_the_poll_thread_once_per_half_buffer_not_once_per_record()
    {
        const int count = 400, bufferSize = 16;
        var input = await Kafka.CreateTopicAsync("bp-refill", 1);
        var group = Kafka.NewGroupId("bp-refill");
        await KafkaTestClient.ProduceAsync(Kafka.BootstrapServers, input, count);

        // Downstream is far slower than the consumer (a millisecond or more per record), so the
        // buffer is full whenever the poll thread looks and it waits for room again and again.
        var control = KafkaConsumer.SourceWithOffsetContext(ConsumerSettingsFor(group).WithMaxBufferSize(bufferSize), Subscriptions.Topics(input))
            .AsSource()
            .SelectAsync(1, async pair => { await Task.Delay(1); return pair; })
            .ToMaterialized(Committer.SinkWithOffsetContext<ConsumeResult<string, string>>(CommitterSettings.Default), Keep.Both)
            .MapMaterializedValue(DrainingControl<Done>.Create)
            .Run(Materializer);

        await StreamAssertions.EventuallyAsync(() => control.Metrics.Completed >= count, "every record completed", state: () => control.Metrics);
        var metrics = control.Metrics;
        Output.WriteLine(metrics.ToString());
        await control.DrainAndShutdown();

        // Woken once the buffer has drained to half: about count / (bufferSize / 2) times, where one
        // wake-up per record taken from a full buffer would be nearly count.
        Assert.InRange(metrics.RefillWakeups, 1, (count / (bufferSize / 2)) + 10);
        Assert.True(metrics.BufferHighWatermark <= bufferSize + 1, $"buffer reached {metrics.BufferHighWatermark}");
        Assert.Equal(OffsetProbe.EndOffsets(Kafka.BootstrapServers, input, 1), OffsetProbe.Committed(Kafka.BootstrapServers, group, input, 1));
        await Materializer.AssertAllStagesStoppedAsync();
    }

    [Fact]
    public async Task Partitions_stay_paused_until_downstream_asks_for_records()
    {
        var input = await Kafka.CreateTopicAsync("bp-lazy", 2);
        await KafkaTestClient.ProduceAsync(Kafka.BootstrapServers, input, 100);

        // A publisher sink with no subscriber yet: the source sees no demand at all.
        var (control, publisher) = KafkaConsumer.SourceWithOffsetContext(ConsumerSettingsFor(Kafka.NewGroupId("lazy")), Subscriptions.Topics(input))
            .AsSource()
            .ToMaterialized(Sink.AsPublisher<(ConsumeResult<string, string>, CommittableOffset)>(false), Keep.Both)
            .Run(Materializer);

        await StreamAssertions.EventuallyAsync(
            () => control.Metrics is { AssignedPartitions.Count: 2, PausedPartitions.Count: 2 },
            "both partitions assigned and paused");
        // Nothing reaches downstream, and at most the one record that can arrive in the poll that
        // assigned the partitions (before they could be paused) waits in the buffer.
        Assert.Equal(0, control.Metrics.Emitted);
        Assert.InRange(control.Metrics.Buffered, 0, 1);

        var first = await Source.FromPublisher(publisher).RunWith(Sink.First<(ConsumeResult<string, string>, CommittableOffset)>(), Materializer)
            .WaitAsync(KafkaTestClient.DefaultTimeout);
        Assert.Equal(input, first.Item1.Topic);
        Assert.True(control.Metrics.Consumed > 0);

        await control.Shutdown();
        await Materializer.AssertAllStagesStoppedAsync();
    }
}
