using System.Collections.Concurrent;
using Akka;
using Akka.Streams;
using Akka.Streams.Dsl;
using Confluent.Kafka;
using Mlops.Stream.Kafka.Dsl;
using Mlops.Stream.Kafka.Settings;
using Mlops.Stream.Kafka.Tests.Infrastructure;
using Xunit.Abstractions;

namespace Mlops.Stream.Kafka.Tests.Dsl;

[Collection(KafkaCollection.Name)]
public sealed class RebalanceTests(KafkaFixture kafka, ITestOutputHelper output) : StreamTestBase(kafka, output)
{
    [Fact]
    public async Task A_consumer_joining_mid_stream_loses_nothing_and_duplicates_only_what_was_uncommitted_at_the_rebalance()
    {
        const int partitions = 6, count = 12_000;
        var input = await Kafka.CreateTopicAsync("rebalance-in", partitions);
        var group = Kafka.NewGroupId("rebalance");
        await KafkaTestClient.ProduceAsync(Kafka.BootstrapServers, input, count);

        // How many times each record was processed, across both consumers.
        var processed = new ConcurrentDictionary<(int Partition, long Offset), int>();
        DrainingControl<Done> Run(string name) =>
            KafkaConsumer.SourceWithOffsetContext(ConsumerSettingsFor(group).WithClientName(name), Subscriptions.Topics(input))
                .AsSource()
                // Throttled so the first consumer is still mid-way when the second joins; the
                // assertions hold at any rate.
                .Throttle(2_000, TimeSpan.FromSeconds(1), 200, ThrottleMode.Shaping)
                .Select(pair =>
                {
                    processed.AddOrUpdate((pair.Item1.Partition.Value, pair.Item1.Offset.Value), 1, (_, n) => n + 1);
                    return pair;
                })
                .ToMaterialized(Committer.SinkWithOffsetContext<ConsumeResult<string, string>>(CommitterSettings.Default.WithMaxInterval(TimeSpan.FromMilliseconds(200))), Keep.Both)
                .MapMaterializedValue(DrainingControl<Done>.Create)
                .Run(Materializer);

        var first = Run("first");
        await StreamAssertions.EventuallyAsync(() => first.Metrics.Completed >= 1_000, "the first consumer is under way");
        Output.WriteLine($"first before join: {first.Metrics}");
        var second = Run("second");
        await StreamAssertions.EventuallyAsync(() => second.Metrics.Consumed > 0, "the second consumer got partitions and records");
        await StreamAssertions.EventuallyAsync(() => processed.Count >= count, "every record processed by one of them", TimeSpan.FromMinutes(1),
            () => $"processed {processed.Count}; first: {first.Metrics}; second: {second.Metrics}");

        Output.WriteLine($"first after join: {first.Metrics}");
        Output.WriteLine($"second: {second.Metrics}");
        await Task.WhenAll(first.DrainAndShutdown(), second.DrainAndShutdown());

        var duplicates = processed.Values.Sum(n => n - 1);
        var inFlightAtRebalance = first.Metrics.RevokedUncommitted + second.Metrics.RevokedUncommitted;
        Output.WriteLine($"processed {processed.Count} distinct, {duplicates} duplicates; uncommitted at revocations: {inFlightAtRebalance}; " +
                         $"rebalances first={first.Metrics.Rebalances} second={second.Metrics.Rebalances}");
        foreach (var g in processed.Where(p => p.Value > 1).GroupBy(p => p.Key.Partition))
            Output.WriteLine($"dup partition {g.Key}: offsets {g.Min(x => x.Key.Offset)}..{g.Max(x => x.Key.Offset)} ({g.Count()})");
        Assert.Equal(count, processed.Count);
        Assert.True(first.Metrics.Rebalances >= 2, "the first consumer was rebalanced when the second joined");
        Assert.True(duplicates <= inFlightAtRebalance, $"{duplicates} duplicates but only {inFlightAtRebalance} records were uncommitted at revocations");
        Assert.Equal(OffsetProbe.EndOffsets(Kafka.BootstrapServers, input, partitions),
                     OffsetProbe.Committed(Kafka.BootstrapServers, group, input, partitions));
        await Materializer.AssertAllStagesStoppedAsync();
    }
}
