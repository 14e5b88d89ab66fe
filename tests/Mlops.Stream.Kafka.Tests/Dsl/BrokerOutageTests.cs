using Akka;
using Akka.Streams;
using Akka.Streams.Dsl;
using Mlops.Stream.Kafka.Dsl;
using Mlops.Stream.Kafka.Embedded;
using Mlops.Stream.Kafka.Settings;
using Mlops.Stream.Kafka.Tests.Infrastructure;
using Xunit.Abstractions;

namespace Mlops.Stream.Kafka.Tests.Dsl;

/// <summary>
/// Fault injection needs a broker the test controls, so this test owns an embedded cluster
/// whatever broker the other tests use.
/// </summary>
[Collection(KafkaCollection.Name)]
public sealed class BrokerOutageTests(KafkaFixture kafka, ITestOutputHelper output) : StreamTestBase(kafka, output)
{
    [Fact]
    public async Task The_stream_waits_out_a_broker_outage_reports_it_and_resumes_without_losing_a_record()
    {
        const int partitions = 4, count = 6_000;
        using var broker = EmbeddedKafka.Start();
        const string input = "outage-in", output = "outage-out";
        broker.CreateTopic(input, partitions);
        broker.CreateTopic(output, partitions);
        var group = $"outage-{Guid.NewGuid():N}";
        await KafkaTestClient.ProduceAsync(broker.BootstrapServers, input, count);

        var health = new KafkaHealthMonitor();
        var control = KafkaConsumer.SourceWithOffsetContext(ConsumerSettingsFor(group, broker.BootstrapServers).WithHealth(health), Subscriptions.Topics(input))
            .AsSource()
            .Throttle(1_500, TimeSpan.FromSeconds(1), 100, ThrottleMode.Shaping)
            .Select(pair => (ProducerMessage.Single(new ProducerRecord<string, string>(output, pair.Item1.Message.Key, pair.Item1.Message.Value)), pair.Item2))
            .Via(KafkaProducer.FlexiFlowWithContext<string, string, CommittableOffset>(ProducerSettingsFor(broker.BootstrapServers).WithHealth(health)).AsFlow())
            .ToMaterialized(Committer.SinkWithOffsetContext<ProducerResults<string, string>>(CommitterSettings.Default.WithRetryBackoff(TimeSpan.FromMilliseconds(200))), Keep.Both)
            .MapMaterializedValue(DrainingControl<Done>.Create)
            .Run(Materializer);

        await StreamAssertions.EventuallyAsync(() => control.Metrics.Completed >= 1_000, "the stream is under way");
        broker.SetBrokerDown(1);
        await StreamAssertions.EventuallyAsync(() => !health.IsReachable, "the outage is reported");
        var completedAtOutage = control.Metrics.Completed;
        Output.WriteLine($"outage reported: {string.Join("; ", health.Outages)}; completed so far {completedAtOutage}");
        Assert.False(control.StreamCompletion.IsCompleted, "the stream must not fail during an outage");
        broker.SetBrokerUp(1);

        await StreamAssertions.EventuallyAsync(() => control.Metrics.Completed >= count, "every record completed after the broker returned", TimeSpan.FromMinutes(1));
        await StreamAssertions.EventuallyAsync(() => health.IsReachable, "recovery is reported");
        await control.DrainAndShutdown();

        Assert.Equal(count, TopicProbe.ReadDistinctValues(broker.BootstrapServers, output, count).Count);
        Assert.Equal(OffsetProbe.EndOffsets(broker.BootstrapServers, input, partitions),
                     OffsetProbe.Committed(broker.BootstrapServers, group, input, partitions));
        await Materializer.AssertAllStagesStoppedAsync();
    }
}
