using Akka;
using Akka.Streams.Dsl;
using Confluent.Kafka;
using Mlops.Stream.Kafka.Dsl;
using Mlops.Stream.Kafka.Embedded;
using Mlops.Stream.Kafka.Settings;
using Mlops.Stream.Kafka.Tests.Infrastructure;
using Xunit.Abstractions;

namespace Mlops.Stream.Kafka.Tests.Dsl;

/// <summary>
/// A record refused for good (too large, invalid) is replaced by its fallback and the stream goes
/// on; without a fallback the stream fails naming the topic and the element. The broker-side
/// refusal needs fault injection, so those tests own an embedded cluster.
/// </summary>
[Collection(KafkaCollection.Name)]
public sealed class RecordRefusalTests(KafkaFixture kafka, ITestOutputHelper output) : StreamTestBase(kafka, output)
{
    private const int MaxMessageBytes = 2_000;

    [Fact]
    public async Task A_record_over_the_size_limit_is_replaced_by_its_fallback_and_every_offset_is_committed()
    {
        const int partitions = 3, count = 300;
        var input = await Kafka.CreateTopicAsync("refuse-in", partitions);
        var output = await Kafka.CreateTopicAsync("refuse-out", partitions);
        var fallbacks = await Kafka.CreateTopicAsync("refuse-dlq", partitions);
        var group = Kafka.NewGroupId("refuse");
        await KafkaTestClient.ProduceAsync(Kafka.BootstrapServers, input, count);

        // Every tenth record's output is too large for the producer's message.max.bytes (librdkafka refuses it on the spot).
        static bool Oversized(string value) => int.Parse(value["value-".Length..]) % 10 == 0;
        var refusals = 0;
        var control = KafkaConsumer.SourceWithOffsetContext(ConsumerSettingsFor(group), Subscriptions.Topics(input))
            .Select(record => ProducerMessage.Single(new ProducerRecord<string, string>(output, record.Message.Key,
                Oversized(record.Message.Value) ? new string('x', MaxMessageBytes * 2) : record.Message.Value)
            {
                Fallback = _ => new ProducerRecord<string, string>(fallbacks, record.Message.Key, record.Message.Value),
            }))
            .Via(KafkaProducer.FlexiFlowWithContext<string, string, CommittableOffset>(
                ProducerSettingsFor().WithProperty("message.max.bytes", MaxMessageBytes.ToString())))
            .AsSource()
            .Select(pair =>
            {
                foreach (var refusal in pair.Item1.Refusals)
                {
                    Assert.Equal(output, refusal.Topic);
                    Assert.Equal(ErrorCode.MsgSizeTooLarge, refusal.Error.Code);
                    Interlocked.Increment(ref refusals);
                }
                return pair;
            })
            .ToMaterialized(Committer.SinkWithOffsetContext<ProducerResults<string, string>>(CommitterSettings.Default), Keep.Both)
            .MapMaterializedValue(DrainingControl<Done>.Create)
            .Run(Materializer);

        await StreamAssertions.EventuallyAsync(() => control.Metrics.Completed >= count, "every record completed", state: () => control.Metrics);
        await control.DrainAndShutdown();

        Assert.Equal(count / 10, refusals);
        Assert.Equal(count - count / 10, OffsetProbe.EndOffsets(Kafka.BootstrapServers, output, partitions).Values.Sum());
        var replaced = TopicProbe.ReadDistinctValues(Kafka.BootstrapServers, fallbacks, count / 10);
        Assert.All(replaced, value => Assert.True(Oversized(value), $"{value} was not refused but went to the fallback topic"));
        Assert.Equal(OffsetProbe.EndOffsets(Kafka.BootstrapServers, input, partitions),
                     OffsetProbe.Committed(Kafka.BootstrapServers, group, input, partitions));
        await Materializer.AssertAllStagesStoppedAsync();
    }

    [Fact]
    public async Task A_record_the_broker_refuses_is_replaced_by_its_fallback_and_the_stream_goes_on()
    {
        using var broker = EmbeddedKafka.Start();
        const string input = "broker-refuse-in", output = "broker-refuse-out", fallbacks = "broker-refuse-dlq";
        broker.CreateTopic(input, 1);
        broker.CreateTopic(output, 1);
        broker.CreateTopic(fallbacks, 1);
        var group = $"broker-refuse-{Guid.NewGuid():N}";

        var refused = new List<string>();
        var (queue, control) = Source.Queue<string>(16, Akka.Streams.OverflowStrategy.Backpressure)
            .Select(value => (ProducerMessage.Single(new ProducerRecord<string, string>(output, value, value)
            {
                Fallback = error => new ProducerRecord<string, string>(fallbacks, value, error.Code.ToString()),
            }), value))
            .Via(KafkaProducer.FlexiFlowWithContext<string, string, string>(ProducerSettingsFor(broker.BootstrapServers)).AsFlow())
            .Select(pair =>
            {
                if (pair.Item1.Refusals.Count > 0) lock (refused) refused.Add(pair.Item2);
                return pair.Item2;
            })
            .ToMaterialized(Sink.Seq<string>(), Keep.Both)
            .Run(Materializer);

        // A first record makes the producer connect, so the injected error meets the next produce request.
        await queue.OfferAsync("first");
        await StreamAssertions.EventuallyAsync(() => OffsetProbe.EndOffsets(broker.BootstrapServers, output, 1)[0] == 1, "the first record written");
        broker.PushRequestErrors(KafkaApi.Produce, ErrorCode.MsgSizeTooLarge);
        await queue.OfferAsync("refused");
        await StreamAssertions.EventuallyAsync(() => { lock (refused) return refused.Count == 1; }, "the refusal reported");
        await queue.OfferAsync("after");
        queue.Complete();

        Assert.Equal(["first", "refused", "after"], await control.WaitAsync(KafkaTestClient.DefaultTimeout));
        Assert.Equal(["refused"], refused);
        Assert.Equal([nameof(ErrorCode.MsgSizeTooLarge)], TopicProbe.ReadDistinctValues(broker.BootstrapServers, fallbacks, 1));
        Assert.Equal(new HashSet<string> { "first", "after" }, TopicProbe.ReadDistinctValues(broker.BootstrapServers, output, 2));
        await Materializer.AssertAllStagesStoppedAsync();
    }

    [Fact]
    public async Task A_refused_record_without_a_fallback_fails_the_stream_naming_the_topic_and_the_element()
    {
        var output = await Kafka.CreateTopicAsync("refuse-fail", 1);
        var run = Source.Single("too large")
            .Select(context => (ProducerMessage.Single(new ProducerRecord<string, string>(output, "k", new string('x', MaxMessageBytes * 2))), context))
            .Via(KafkaProducer.FlexiFlowWithContext<string, string, string>(
                ProducerSettingsFor().WithProperty("message.max.bytes", MaxMessageBytes.ToString())).AsFlow())
            .RunWith(Sink.Ignore<(ProducerResults<string, string>, string)>(), Materializer);

        var failure = await Assert.ThrowsAsync<ProducerDeliveryException>(() => run.WaitAsync(KafkaTestClient.DefaultTimeout));
        Assert.Equal(output, failure.Topic);
        Assert.Equal("too large", failure.Context);
        Assert.Contains(output, failure.Message);
        await Materializer.AssertAllStagesStoppedAsync();
    }
}
