using System.Text;
using System.Text.Json;
using Confluent.Kafka;
using Microsoft.Extensions.Logging.Abstractions;
using Mlops.Stream.Actors.Metrics;
using Mlops.Stream.Actors.Serving;
using Mlops.Stream.Actors.Tests.Batching;
using Mlops.Stream.Inference.Batching;
using Mlops.Stream.Inference.Gateway;
using Mlops.Stream.Inference.Wire;
using Mlops.Stream.Kafka.Embedded;

namespace Mlops.Stream.Actors.Tests.Serving;

/// <summary>HTTP inferences' served events reach the served topic when Kafka is there, and are dropped and counted when it is not.</summary>
public sealed class HttpServedEventsTests
{
    private const string Topic = "mlops.served.fake.v1";
    private static readonly TimeSpan Guard = TimeSpan.FromMinutes(1);

    [Fact]
    public async Task Served_events_of_http_inferences_are_written_with_source_http_and_no_partition_or_offset()
    {
        using var broker = EmbeddedKafka.Start();
        broker.CreateTopic(Topic, 1);
        var metrics = ServingMetrics.Detached();
        await using (var events = new HttpServedEvents(broker.BootstrapServers, new Dictionary<string, string>(), metrics, NullLogger.Instance))
        {
            for (var i = 0; i < 3; i++) events.Publish("fake", Topic, FakeModel.Request($"http-{i}", i), Served(i), DateTimeOffset.UtcNow, DateTimeOffset.UtcNow);
        }   // disposing hands over and flushes what was queued

        using var consumer = new ConsumerBuilder<string, byte[]>(new ConsumerConfig { BootstrapServers = broker.BootstrapServers, GroupId = "check" }).Build();
        consumer.Assign(new TopicPartitionOffset(Topic, 0, Offset.Beginning));
        for (var i = 0; i < 3; i++)
        {
            var record = consumer.Consume(TimeSpan.FromSeconds(10)) ?? throw new TimeoutException("served event missing");
            Assert.Equal($"http-{i}", record.Message.Key);
            Assert.Equal($"http-{i}", ServingHeaders.Read(record.Message.Headers, ServingHeaders.RequestId));
            var served = JsonDocument.Parse(record.Message.Value).RootElement;
            Assert.Equal($"http-{i}", served.GetProperty("id").GetString());
            Assert.Equal("http", served.GetProperty("source").GetString());
            Assert.Equal(JsonValueKind.Null, served.GetProperty("source_partition").ValueKind);
            Assert.Equal(JsonValueKind.Null, served.GetProperty("source_offset").ValueKind);
            Assert.Equal((float)i, served.GetProperty("outputs")[0].GetProperty("data")[0].GetSingle());
        }
        Assert.DoesNotContain("mlops_served_events_dropped_total{", await Exported(metrics));
    }

    [Fact]
    public async Task Without_kafka_publishing_returns_at_once_and_every_event_is_dropped_and_counted_by_reason()
    {
        using var broker = EmbeddedKafka.Start();
        broker.CreateTopic(Topic, 1);
        broker.SetBrokerDown(1);
        var metrics = ServingMetrics.Detached();
        await using var events = new HttpServedEvents(broker.BootstrapServers, new Dictionary<string, string>(), metrics, NullLogger.Instance,
            queueCapacity: 2, deliveryTimeout: TimeSpan.FromSeconds(1));

        const int count = 20;
        for (var i = 0; i < count; i++) events.Publish("fake", Topic, FakeModel.Request($"r{i}"), Served(1), DateTimeOffset.UtcNow, DateTimeOffset.UtcNow);

        // Some never fit a queue (queue_full); the rest time out waiting for the broker (kafka_error). None is kept.
        var text = await Eventually.ReadsAsync(() => Exported(metrics),
            exported => Dropped(exported, "queue_full") + Dropped(exported, "kafka_error") >= count, "every event is accounted for", Guard);
        Assert.True(Dropped(text, "queue_full") >= 1, text);
        Assert.True(Dropped(text, "kafka_error") >= 1, text);
    }

    private static BatchResult Served(float value) =>
        BatchResult.Served([Tensor.Create("y", new[] { value }, 1, 1)], "fake", 1, new BatchTimings(TimeSpan.Zero, TimeSpan.Zero, 1, 1));

    private static double Dropped(string exported, string reason) =>
        exported.Split('\n').Where(l => l.StartsWith("mlops_served_events_dropped_total{") && l.Contains($"reason=\"{reason}\""))
            .Sum(l => double.Parse(l[(l.LastIndexOf(' ') + 1)..], System.Globalization.CultureInfo.InvariantCulture));

    private static async Task<string> Exported(ServingMetrics metrics)
    {
        using var stream = new MemoryStream();
        await metrics.Registry.CollectAndExportAsTextAsync(stream);
        return Encoding.UTF8.GetString(stream.ToArray());
    }
}
