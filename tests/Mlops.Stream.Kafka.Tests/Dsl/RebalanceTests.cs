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
        // librdkafka's default (eager) assignment: every partition is revoked, and the broker may
        // refuse the commits made meanwhile, so what completed since the last commit can come again.
        var (processed, first, second) = await RunTwoConsumersAsync(strategy: null, "rebalance");

        var duplicates = processed.Values.Sum(n => n - 1);
        var inFlightAtRebalance = first.RevokedUncommitted + second.RevokedUncommitted;
        Assert.True(duplicates <= inFlightAtRebalance, $"{duplicates} duplicates but only {inFlightAtRebalance} records were uncommitted at revocations");
    }

    [Fact]
    public async Task With_incremental_rebalancing_a_consumer_joining_mid_stream_lets_the_records_in_flight_finish_before_letting_go()
    {
        // The partitions that move are revoked from a live consumer, which lets the records it
        // already handed downstream finish and commits them before letting go: the joining
        // consumer starts after them, so nothing is processed twice.
        var (processed, first, second) = await RunTwoConsumersAsync("cooperative-sticky", "rebalance-coop");

        // Every record in flight at the revocation finished before the partition was let go. (The
        // embedded broker refuses commits while members rejoin; what completed and could not be
        // committed then is all that can come again, and it is counted as uncommitted.)
        Assert.Equal(0, first.RevokedUnfinished + second.RevokedUnfinished);
        var duplicates = processed.Values.Sum(n => n - 1);
        Assert.True(duplicates <= first.RevokedUncommitted + second.RevokedUncommitted,
            $"{duplicates} duplicates but only {first.RevokedUncommitted + second.RevokedUncommitted} records were uncommitted at revocations");
    }

    /// <summary>
    /// 12,000 records over 6 partitions; a second consumer joins the group while the first is
    /// mid-way. Checks that every record was processed and every offset committed; returns how many
    /// times each record was processed and both consumers' final metrics.
    /// </summary>
    private async Task<(ConcurrentDictionary<(int Partition, long Offset), int> Processed, ConsumerMetrics First, ConsumerMetrics Second)>
        RunTwoConsumersAsync(string? strategy, string name)
    {
        const int partitions = 6, count = 12_000;
        var input = await Kafka.CreateTopicAsync($"{name}-in", partitions);
        var group = Kafka.NewGroupId(name);
        await KafkaTestClient.ProduceAsync(Kafka.BootstrapServers, input, count);

        // How many times each record was processed, across both consumers.
        var processed = new ConcurrentDictionary<(int Partition, long Offset), int>();
        DrainingControl<Done> Run(string client)
        {
            var settings = ConsumerSettingsFor(group).WithClientName(client);
            if (strategy is not null) settings = settings.WithProperty("partition.assignment.strategy", strategy);
            return KafkaConsumer.SourceWithOffsetContext(settings, Subscriptions.Topics(input))
                .AsSource()
                // Work that takes a while, 32 records at a time: records are always in flight when
                // the second consumer joins, and the first is still mid-way (the assertions hold at any rate).
                .SelectAsync(32, async pair =>
                {
                    await Task.Delay(40);
                    processed.AddOrUpdate((pair.Item1.Partition.Value, pair.Item1.Offset.Value), 1, (_, n) => n + 1);
                    return pair;
                })
                .ToMaterialized(Committer.SinkWithOffsetContext<ConsumeResult<string, string>>(CommitterSettings.Default.WithMaxInterval(TimeSpan.FromMilliseconds(200))), Keep.Both)
                .MapMaterializedValue(DrainingControl<Done>.Create)
                .Run(Materializer);
        }

        var first = Run("first");
        await StreamAssertions.EventuallyAsync(() => first.Metrics.Completed >= 1_000, "the first consumer is under way");
        Output.WriteLine($"first before join: {first.Metrics}");
        var second = Run("second");
        await StreamAssertions.EventuallyAsync(() => second.Metrics.Consumed > 0, "the second consumer got partitions and records", TimeSpan.FromSeconds(30),
            () => $"first: {first.Metrics}; second: {second.Metrics}");
        await StreamAssertions.EventuallyAsync(() => processed.Count >= count, "every record processed by one of them", TimeSpan.FromMinutes(1),
            () => $"processed {processed.Count}; first: {first.Metrics}; second: {second.Metrics}");

        Output.WriteLine($"first after join: {first.Metrics}");
        Output.WriteLine($"second: {second.Metrics}");
        await Task.WhenAll(first.DrainAndShutdown(), second.DrainAndShutdown());

        var duplicates = processed.Values.Sum(n => n - 1);
        Output.WriteLine($"processed {processed.Count} distinct, {duplicates} duplicates; uncommitted at revocations: " +
                         $"{first.Metrics.RevokedUncommitted + second.Metrics.RevokedUncommitted}; " +
                         $"rebalances first={first.Metrics.Rebalances} second={second.Metrics.Rebalances}");
        foreach (var g in processed.Where(p => p.Value > 1).GroupBy(p => p.Key.Partition))
            Output.WriteLine($"dup partition {g.Key}: offsets {g.Min(x => x.Key.Offset)}..{g.Max(x => x.Key.Offset)} ({g.Count()})");
        Assert.Equal(count, processed.Count);
        Assert.True(first.Metrics.Rebalances >= 2, "the first consumer was rebalanced when the second joined");
        Assert.Equal(OffsetProbe.EndOffsets(Kafka.BootstrapServers, input, partitions),
                     OffsetProbe.Committed(Kafka.BootstrapServers, group, input, partitions));
        await Materializer.AssertAllStagesStoppedAsync();
        return (processed, first.Metrics, second.Metrics);
    }
}
