using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Confluent.Kafka;
using Mlops.Stream.Actors.Serving;
using Mlops.Stream.Host.Tests.Infrastructure;
using Mlops.Stream.Inference.Gateway;
using Mlops.Stream.Inference.Wire;
using Mlops.Stream.Kafka.Embedded;
using Mlops.Stream.Kafka.Topics;
using Xunit.Abstractions;

namespace Mlops.Stream.Host.Tests;

/// <summary>
/// Records a careless or hostile producer writes — a header whose value is null or not UTF-8, a
/// key that is not UTF-8, no value at all, an id of half a megabyte — run through a real node on
/// the embedded broker: each bad one is dead-lettered once with its original bytes, each good one
/// around it (same partition and others) is predicted once, every offset is committed, and the
/// Kafka stream never restarts.
/// </summary>
public sealed partial class HostileRecordTests(ITestOutputHelper output)
{
    private const string Model = "fraud-demo";
    private const int Features = 30;

    private sealed record Sent(string Name, int Partition, byte[]? Key, byte[]? Value, Headers Headers, string? ExpectedError)
    {
        public long Offset { get; set; }
    }

    [Fact]
    public async Task Each_hostile_record_is_dead_lettered_once_the_records_around_it_are_predicted_once_and_the_stream_never_restarts()
    {
        using var broker = EmbeddedKafka.Start();
        var topics = ModelTopics.For(TopicCatalog.Default, Model);
        broker.CreateTopics(TopicCatalog.Default.DeclareAll([Model]));
        await using var node = await TestNode.StartAsync($"--Kafka:BootstrapServers={broker.BootstrapServers}",
            "--Kafka:ConsumerProperties:session.timeout.ms=6000", "--Kafka:ConsumerProperties:heartbeat.interval.ms=500");
        await node.WaitForOkAsync("/healthz/ready");

        var nonUtf8 = new byte[] { 0xC3, 0x28, 0xFF, 0x00, 0x80 };
        var hugeId = new string('x', 520 * 1024);
        Sent[] records =
        [
            Good("good-0", partition: 0),
            new("undecodable body, request-id header with a null value", 0, Bytes("k1"), Bytes("not json at all"),
                new Headers { { ServingHeaders.RequestId, null } }, "invalid_json"),
            Good("good-1", partition: 0, new Headers { { ServingHeaders.RequestId, null }, { "trace", nonUtf8 } }),
            new("undecodable body, header values that are not UTF-8", 0, Bytes("k2"), Bytes("{\"id\":"),
                new Headers { { ServingHeaders.RequestId, nonUtf8 }, { ServingHeaders.ErrorCode, nonUtf8 } }, "invalid_json"),
            Good("good-2", partition: 0),
            new("a valid request with an id of 520 KiB", 0, null, Request(hugeId), [], "id_too_long"),
            Good("good-3", partition: 0),
            Good("good-4", partition: 1),
            new("no value at all", 1, Bytes("tombstone"), null, [], "invalid_json"),
            Good("good-5", partition: 1),
            Good("good-6", partition: 2) with { Key = nonUtf8 },
            Good("good-7", partition: 2),
        ];
        await Produce(broker.BootstrapServers, topics.Requests, records);

        await Eventually.HoldsAsync(() => Lag(broker.BootstrapServers, topics.Requests) == 0, "every request offset is committed",
            state: () => Lag(broker.BootstrapServers, topics.Requests));

        // Each bad record: one dead letter, its original bytes and headers, the reason and where it came from.
        var letters = ReadAll(broker.BootstrapServers, topics.DeadLetters);
        var bad = records.Where(r => r.ExpectedError is not null).ToList();
        Assert.Equal(bad.Count, letters.Count);
        foreach (var record in bad)
        {
            var letter = Assert.Single(letters, l => Header(l, ServingHeaders.SourcePartition) == record.Partition.ToString()
                                                     && Header(l, ServingHeaders.SourceOffset) == record.Offset.ToString());
            output.WriteLine($"{record.Name}: {Header(letter, ServingHeaders.ErrorCode)}: {Header(letter, ServingHeaders.Error)?[..Math.Min(200, Header(letter, ServingHeaders.Error)!.Length)]}");
            Assert.Equal(record.ExpectedError, Header(letter, ServingHeaders.ErrorCode));
            Assert.Equal(record.Value, letter.Message.Value);
            Assert.Equal(record.Key, letter.Message.Key);
            foreach (var header in record.Headers.Where(h => h.Key != ServingHeaders.ErrorCode))
                Assert.Contains(letter.Message.Headers, h => h.Key == header.Key && Equals(h.GetValueBytes(), header.GetValueBytes()));
        }

        // Each good record: one prediction, under exactly the key it came with.
        var predictions = ReadAll(broker.BootstrapServers, topics.Predictions);
        var good = records.Where(r => r.ExpectedError is null).ToList();
        Assert.Equal(good.Count, predictions.Count);
        foreach (var record in good)
        {
            var prediction = Assert.Single(predictions, p => InferenceCodec.DecodeResponse(p.Message.Value).Id == record.Name);
            Assert.Equal(record.Key, prediction.Message.Key);
        }
        var served = ReadAll(broker.BootstrapServers, topics.Served);
        Assert.Equal(good.Count, served.Count);
        Assert.All(served, s => Assert.Equal("kafka", JsonDocument.Parse(s.Message.Value).RootElement.GetProperty("source").GetString()));

        // The stream never failed, and readiness and the status say so.
        using var status = JsonDocument.Parse(await node.Http.GetStringAsync($"/api/v1/models/{Model}"));
        var stream = status.RootElement.GetProperty("kafka_stream");
        Assert.Equal(0, stream.GetProperty("restarts").GetInt32());
        Assert.True(stream.GetProperty("running").GetBoolean());
        var metrics = new PrometheusText(await node.Http.GetStringAsync("/metrics"));
        Assert.Equal(0, metrics.Sum("mlops_kafka_stream_restarts_total", ("model", Model)));
        Assert.Equal(3, metrics.Sum("mlops_dead_letters_total", ("model", Model), ("code", "invalid_json")));
        Assert.Equal(1, metrics.Sum("mlops_dead_letters_total", ("model", Model), ("code", "id_too_long")));
        using var ready = await node.Http.GetAsync("/healthz/ready");
        Assert.Equal(HttpStatusCode.OK, ready.StatusCode);
    }

    [Fact]
    public async Task An_id_over_the_limit_is_refused_on_http_with_its_code_and_an_id_at_the_limit_is_served()
    {
        await using var node = await TestNode.StartAsync();
        await node.WaitForOkAsync("/healthz/ready");

        using var tooLong = await node.Http.PostAsync($"/v2/models/{Model}/infer", JsonBody.From(Request(new string('i', 1025))));
        Assert.Equal(HttpStatusCode.BadRequest, tooLong.StatusCode);
        using var error = JsonDocument.Parse(await tooLong.Content.ReadAsStringAsync());
        Assert.Equal("id_too_long", error.RootElement.GetProperty("code").GetString());
        Assert.Contains("1025 bytes", error.RootElement.GetProperty("error").GetString());

        using var atLimit = await node.Http.PostAsync($"/v2/models/{Model}/infer", JsonBody.From(Request(new string('i', 1024))));
        Assert.Equal(HttpStatusCode.OK, atLimit.StatusCode);
    }

    [Fact]
    public async Task Http_inferences_leave_served_events_and_answer_even_while_kafka_is_down()
    {
        using var broker = EmbeddedKafka.Start();
        var topics = ModelTopics.For(TopicCatalog.Default, Model);
        broker.CreateTopics(TopicCatalog.Default.DeclareAll([Model]));
        await using var node = await TestNode.StartAsync($"--Kafka:BootstrapServers={broker.BootstrapServers}");
        await node.WaitForOkAsync("/healthz/ready");

        string[] ids = ["http-a", "http-b", "http-c", "http-d", "http-e"];
        foreach (var id in ids)
        {
            using var response = await node.Http.PostAsync($"/v2/models/{Model}/infer", JsonBody.From(Request(id)));
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }
        var events = new List<JsonElement>();
        await Eventually.HoldsAsync(() =>
        {
            events = ReadAll(broker.BootstrapServers, topics.Served).Select(r => JsonDocument.Parse(r.Message.Value).RootElement).ToList();
            return events.Count >= ids.Length;
        }, "the HTTP served events are on the served topic", state: () => events.Count);
        Assert.Equal(ids, events.Select(e => e.GetProperty("id").GetString()).Order());
        Assert.All(events, e =>
        {
            Assert.Equal("http", e.GetProperty("source").GetString());
            Assert.Equal("1", e.GetProperty("version").GetString());
            Assert.Equal(JsonValueKind.Null, e.GetProperty("source_offset").ValueKind);
            Assert.Equal(Features, e.GetProperty("inputs")[0].GetProperty("data").GetArrayLength());
        });

        // Kafka gone: the HTTP answers do not depend on it.
        broker.SetBrokerDown(1);
        foreach (var id in new[] { "while-down-1", "while-down-2", "while-down-3" })
        {
            using var response = await node.Http.PostAsync($"/v2/models/{Model}/infer", JsonBody.From(Request(id)));
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }
        broker.SetBrokerUp(1);
    }

    [Fact]
    public async Task A_stream_that_keeps_failing_makes_the_node_unready_naming_the_model_and_the_record_and_counts_its_restarts()
    {
        using var broker = EmbeddedKafka.Start();
        var topics = ModelTopics.For(TopicCatalog.Default, Model);
        broker.CreateTopics(TopicCatalog.Default.DeclareAll([Model]));
        var doomed = Good("doomed", partition: 3);
        await Produce(broker.BootstrapServers, topics.Requests, [doomed]);
        // From now on Kafka refuses every record written (a broken broker or a DLQ no record fits), so the
        // request can end neither as a prediction nor as any dead letter: the stream fails on it each time.
        broker.PushRequestErrors(KafkaApi.Produce, Enumerable.Repeat(ErrorCode.MsgSizeTooLarge, 10_000).ToArray());

        await using var node = await TestNode.StartAsync($"--Kafka:BootstrapServers={broker.BootstrapServers}",
            "--Kafka:ConsumerProperties:session.timeout.ms=6000", "--Kafka:ConsumerProperties:heartbeat.interval.ms=500");
        var record = $"{topics.Requests} [3] @ {doomed.Offset}";
        string? models = null;
        await Eventually.HoldsAsync(async () =>
        {
            using var ready = await node.Http.GetAsync("/healthz/ready");
            var report = await ready.Content.ReadFromJsonAsync<Mlops.Stream.Http.HealthReportResponse>();
            models = report?.Checks.SingleOrDefault(c => c.Name == "models")?.Description;
            return ready.StatusCode == HttpStatusCode.ServiceUnavailable && models?.Contains("kafka stream failing") == true;
        }, "readiness reports the failing stream", state: () => models);
        Assert.Contains($"{Model} (kafka stream failing", models);
        Assert.Contains(record, models);

        var metrics = new PrometheusText(await node.Http.GetStringAsync("/metrics"));
        Assert.True(metrics.Sum("mlops_kafka_stream_restarts_total", ("model", Model)) >= 2, metrics.Text);
        using var status = JsonDocument.Parse(await node.Http.GetStringAsync($"/api/v1/models/{Model}"));
        var stream = status.RootElement.GetProperty("kafka_stream");
        Assert.True(stream.GetProperty("failing").GetBoolean());
        Assert.Contains(record, stream.GetProperty("last_failure").GetString());
    }

    private static Sent Good(string id, int partition, Headers? headers = null) =>
        new(id, partition, Bytes(id), Request(id), headers ?? new Headers { { ServingHeaders.RequestId, Bytes(id) } }, null);

    private static byte[] Request(string id)
    {
        var random = new Random(id.Length);
        var features = Enumerable.Range(0, Features).Select(_ => (float)(random.NextDouble() * 2 - 1)).ToArray();
        return InferenceCodec.EncodeRequest(new InferenceRequest(id, [Tensor.Create("features", features, 1, Features)]));
    }

    private static byte[] Bytes(string text) => Encoding.UTF8.GetBytes(text);

    private static bool Equals(byte[]? a, byte[]? b) => a is null ? b is null : b is not null && a.AsSpan().SequenceEqual(b);

    private static string? Header(ConsumeResult<byte[]?, byte[]?> record, string name) => ServingHeaders.Read(record.Message.Headers, name);

    private static async Task Produce(string bootstrap, string topic, IEnumerable<Sent> records)
    {
        using var producer = new ProducerBuilder<byte[]?, byte[]?>(new ProducerConfig { BootstrapServers = bootstrap }).Build();
        foreach (var record in records)
        {
            var delivered = await producer.ProduceAsync(new TopicPartition(topic, record.Partition),
                new Message<byte[]?, byte[]?> { Key = record.Key, Value = record.Value, Headers = record.Headers });
            record.Offset = delivered.Offset.Value;
        }
    }

    /// <summary>Records of the request topic not yet committed by the serving group (end − committed, summed).</summary>
    private static long Lag(string bootstrap, string topic)
    {
        using var consumer = new ConsumerBuilder<Ignore, Ignore>(new ConsumerConfig { BootstrapServers = bootstrap, GroupId = ModelTopics.ConsumerGroup(Model) }).Build();
        var partitions = Enumerable.Range(0, PartitionCount(bootstrap, topic)).Select(p => new TopicPartition(topic, p)).ToList();
        var committed = consumer.Committed(partitions, TimeSpan.FromSeconds(10)).ToDictionary(c => c.Partition.Value, c => Math.Max(0, c.Offset.Value));
        return partitions.Sum(p => consumer.QueryWatermarkOffsets(p, TimeSpan.FromSeconds(10)).High.Value - committed[p.Partition.Value]);
    }

    private static int PartitionCount(string bootstrap, string topic)
    {
        using var admin = new AdminClientBuilder(new AdminClientConfig { BootstrapServers = bootstrap }).Build();
        return admin.GetMetadata(topic, TimeSpan.FromSeconds(10)).Topics.Single().Partitions.Count;
    }

    /// <summary>Every record on the topic now, from every partition.</summary>
    private static List<ConsumeResult<byte[]?, byte[]?>> ReadAll(string bootstrap, string topic)
    {
        using var consumer = new ConsumerBuilder<byte[]?, byte[]?>(new ConsumerConfig
        {
            BootstrapServers = bootstrap, GroupId = $"read-{Guid.NewGuid():N}", EnableAutoCommit = false,
        }).Build();
        var records = new List<ConsumeResult<byte[]?, byte[]?>>();
        foreach (var partition in Enumerable.Range(0, PartitionCount(bootstrap, topic)).Select(p => new TopicPartition(topic, p)))
        {
            var end = consumer.QueryWatermarkOffsets(partition, TimeSpan.FromSeconds(10)).High.Value;
            if (end == 0) continue;
            consumer.Assign(new TopicPartitionOffset(partition, Offset.Beginning));
            var read = 0L;
            while (read < end)
            {
                var record = consumer.Consume(TimeSpan.FromSeconds(10)) ?? throw new TimeoutException($"could not read {partition} up to {end}");
                records.Add(record);
                read = record.Offset.Value + 1;
            }
        }
        return records;
    }
}
