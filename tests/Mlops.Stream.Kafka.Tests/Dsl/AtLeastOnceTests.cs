using System.Collections.Concurrent;
using Akka;
using Akka.Streams.Dsl;
using Confluent.Kafka;
using Mlops.Stream.Kafka.Dsl;
using Mlops.Stream.Kafka.Settings;
using Mlops.Stream.Kafka.Tests.Infrastructure;
using Xunit.Abstractions;

namespace Mlops.Stream.Kafka.Tests.Dsl;

[Collection(KafkaCollection.Name)]
public sealed class AtLeastOnceTests(KafkaFixture kafka, ITestOutputHelper output) : StreamTestBase(kafka, output)
{
    [Fact]
    public async Task Hundred_thousand_records_arrive_downstream_exactly_once_and_offsets_reach_the_end()
    {
        const int partitions = 8, count = 100_000;
        var input = await Kafka.CreateTopicAsync("alo-in", partitions);
        var output = await Kafka.CreateTopicAsync("alo-out", partitions);
        var group = Kafka.NewGroupId("alo");
        await KafkaTestClient.ProduceAsync(Kafka.BootstrapServers, input, count);

        var control = KafkaConsumer.SourceWithOffsetContext(ConsumerSettingsFor(group), Subscriptions.Topics(input))
            .Select(record => ProducerMessage.Single(new ProducerRecord<string, string>(output, record.Message.Key, record.Message.Value)))
            .Via(KafkaProducer.FlexiFlowWithContext<string, string, CommittableOffset>(ProducerSettingsFor()))
            .ToMaterialized(Committer.SinkWithOffsetContext<ProducerResults<string, string>>(CommitterSettings.Default), Keep.Both)
            .MapMaterializedValue(DrainingControl<Done>.Create)
            .Run(Materializer);

        await StreamAssertions.EventuallyAsync(() => control.Metrics.Completed >= count, "every record completed", TimeSpan.FromMinutes(2), () => control.Metrics);
        await control.DrainAndShutdown();

        Assert.Equal(count, OffsetProbe.EndOffsets(Kafka.BootstrapServers, output, partitions).Values.Sum());
        Assert.Equal(count, TopicProbe.ReadDistinctValues(Kafka.BootstrapServers, output, count).Count);
        Assert.Equal(OffsetProbe.EndOffsets(Kafka.BootstrapServers, input, partitions),
                     OffsetProbe.Committed(Kafka.BootstrapServers, group, input, partitions));
        await Materializer.AssertAllStagesStoppedAsync();
    }

    [Fact]
    public async Task An_envelope_may_write_several_records_or_none_and_results_keep_their_order()
    {
        const int partitions = 3, count = 600;
        var input = await Kafka.CreateTopicAsync("flexi-in", partitions);
        var output = await Kafka.CreateTopicAsync("flexi-out", partitions);
        var group = Kafka.NewGroupId("flexi");
        await KafkaTestClient.ProduceAsync(Kafka.BootstrapServers, input, count);

        // i % 3 == 0: nothing; i % 3 == 1: one record; i % 3 == 2: two records (say a prediction and a served event).
        static int Index(string value) => int.Parse(value["value-".Length..]);
        var seenPerPartition = new ConcurrentDictionary<int, List<long>>();
        var control = KafkaConsumer.SourceWithOffsetContext(ConsumerSettingsFor(group), Subscriptions.Topics(input))
            .Select(record => (Index(record.Message.Value) % 3) switch
            {
                0 => ProducerMessage.PassThrough<string, string>(),
                1 => ProducerMessage.Single(new ProducerRecord<string, string>(output, record.Message.Key, record.Message.Value)),
                _ => ProducerMessage.Multi(new[]
                {
                    new ProducerRecord<string, string>(output, record.Message.Key, record.Message.Value + "/a"),
                    new ProducerRecord<string, string>(output, record.Message.Key, record.Message.Value + "/b"),
                }),
            })
            .Via(KafkaProducer.FlexiFlowWithContext<string, string, CommittableOffset>(ProducerSettingsFor()))
            .AsSource()
            .Select(pair =>
            {
                seenPerPartition.GetOrAdd(pair.Item2.TopicPartition.Partition.Value, _ => new List<long>()).Add(pair.Item2.Offset);
                Assert.All(pair.Item1.Deliveries, d => Assert.Equal(PersistenceStatus.Persisted, d.Status));
                return pair;
            })
            .ToMaterialized(Committer.SinkWithOffsetContext<ProducerResults<string, string>>(CommitterSettings.Default), Keep.Both)
            .MapMaterializedValue(DrainingControl<Done>.Create)
            .Run(Materializer);

        await StreamAssertions.EventuallyAsync(() => control.Metrics.Completed >= count, "every record completed");
        await control.DrainAndShutdown();

        var expectedRecords = Enumerable.Range(0, count).Sum(i => i % 3);
        Assert.Equal(expectedRecords, OffsetProbe.EndOffsets(Kafka.BootstrapServers, output, partitions).Values.Sum());
        foreach (var offsets in seenPerPartition.Values)
            Assert.Equal(offsets.OrderBy(o => o), offsets);
        Assert.Equal(OffsetProbe.EndOffsets(Kafka.BootstrapServers, input, partitions),
                     OffsetProbe.Committed(Kafka.BootstrapServers, group, input, partitions));
        await Materializer.AssertAllStagesStoppedAsync();
    }

    [Fact]
    public async Task Draining_commits_every_element_that_reached_the_sink_and_nothing_beyond()
    {
        const int partitions = 4, count = 4_000;
        var input = await Kafka.CreateTopicAsync("drain-in", partitions);
        var group = Kafka.NewGroupId("drain");
        await KafkaTestClient.ProduceAsync(Kafka.BootstrapServers, input, count);

        var processed = new ConcurrentDictionary<int, ConcurrentBag<long>>();
        var control = KafkaConsumer.SourceWithOffsetContext(ConsumerSettingsFor(group), Subscriptions.Topics(input))
            .AsSource()
            // Slow enough that the stream is mid-way when drained; correctness does not depend on the rate.
            .Throttle(2_000, TimeSpan.FromSeconds(1), 100, Akka.Streams.ThrottleMode.Shaping)
            .Select(pair =>
            {
                processed.GetOrAdd(pair.Item1.Partition.Value, _ => new ConcurrentBag<long>()).Add(pair.Item1.Offset.Value);
                return pair;
            })
            .ToMaterialized(Committer.SinkWithOffsetContext<ConsumeResult<string, string>>(CommitterSettings.Default.WithMaxBatch(50_000).WithMaxInterval(TimeSpan.FromMinutes(1))), Keep.Both)
            .MapMaterializedValue(DrainingControl<Done>.Create)
            .Run(Materializer);

        await StreamAssertions.EventuallyAsync(() => control.Metrics.Emitted >= 1_000, "a thousand records emitted");
        await control.DrainAndShutdown();

        var committed = OffsetProbe.Committed(Kafka.BootstrapServers, group, input, partitions);
        var total = 0;
        foreach (var (partition, offsets) in processed)
        {
            var sorted = offsets.OrderBy(o => o).ToArray();
            Assert.Equal(Enumerable.Range(0, sorted.Length).Select(i => (long)i), sorted);   // no gaps, no duplicates
            Assert.Equal(sorted.Length, committed[partition]);                                // committed exactly up to what was done
            total += sorted.Length;
        }
        foreach (var partition in Enumerable.Range(0, partitions).Where(p => !processed.ContainsKey(p)))
            Assert.True(committed[partition] < 0, $"partition {partition} had nothing processed but a commit");
        Assert.InRange(total, 1_000, count - 1);   // drained mid-stream, so the test means something
        await Materializer.AssertAllStagesStoppedAsync();
    }

    [Fact]
    public async Task An_invalid_consumer_property_fails_the_stream_with_its_message_and_the_control_does_not_hang()
    {
        var input = await Kafka.CreateTopicAsync("invalid", 1);
        var settings = ConsumerSettingsFor(Kafka.NewGroupId("invalid")).WithProperty("session.timeout.ms", "not-a-number");
        var control = KafkaConsumer.SourceWithOffsetContext(settings, Subscriptions.Topics(input))
            .ToMaterialized(Committer.SinkWithOffsetContext<ConsumeResult<string, string>>(CommitterSettings.Default), Keep.Both)
            .MapMaterializedValue(DrainingControl<Done>.Create)
            .Run(Materializer);

        var error = await Assert.ThrowsAnyAsync<Exception>(() => control.DrainAndShutdown().WaitAsync(KafkaTestClient.DefaultTimeout));
        Assert.Contains("session.timeout.ms", error.Message);
        Assert.True(control.IsShutdown.IsCompleted);
        await Materializer.AssertAllStagesStoppedAsync();
    }
}
