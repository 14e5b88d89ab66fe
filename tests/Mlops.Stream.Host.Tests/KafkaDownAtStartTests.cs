using System.Net;
using System.Net.Sockets;
using System.Text.Json;
using Confluent.Kafka;
using Mlops.Stream.Actors.Serving;
using Mlops.Stream.Host.Tests.Infrastructure;
using Mlops.Stream.Kafka.Embedded;
using Mlops.Stream.Kafka.Topics;

namespace Mlops.Stream.Host.Tests;

/// <summary>
/// Kafka down is not inference down: the real program, started while nothing answers at its
/// Kafka address, loads its model and serves HTTP (readiness 200, degraded, with the reason); its log
/// stays JSON, with librdkafka's own lines through the node's logger and rate-limited; once a broker
/// answers at that address, the Kafka path joins and a request record gets its prediction.
/// </summary>
public sealed class KafkaDownAtStartTests
{
    private const string Model = "fraud-demo";

    [Fact]
    public async Task A_node_started_without_kafka_serves_http_and_joins_kafka_when_it_answers()
    {
        var port = FreePort();
        using var registry = new TempDirectory("mlops-kafka-down-");
        using var node = HostProcess.Start(TestNode.Arguments(
            $"--Kafka:BootstrapServers=127.0.0.1:{port}", "--Kafka:FetchWait=00:00:00.005", $"--Registry:Path={registry.Path}",
            "--Logging:LogLevel:Default=Information"), new Dictionary<string, string?> { ["Logging__Console__FormatterName"] = "json" });
        using var http = new HttpClient { BaseAddress = await node.Listening.WaitAsync(HostProcess.Timeout), Timeout = TimeSpan.FromSeconds(30) };

        // Without Kafka: the model loads and answers HTTP; readiness is 200, saying Kafka is the problem.
        await Eventually.ReadsAsync(() => http.GetAsync($"/v2/models/{Model}/ready"), r => r.IsSuccessStatusCode,
            "the model is ready without Kafka", HostProcess.Timeout, r => node.Output);
        using (var infer = await http.PostAsync($"/v2/models/{Model}/infer", JsonBody.From(DemoRequests.Body("http-without-kafka"))))
        {
            Assert.Equal(HttpStatusCode.OK, infer.StatusCode);
        }
        using (var ready = await http.GetAsync("/healthz/ready"))
        {
            Assert.Equal(HttpStatusCode.OK, ready.StatusCode);
            var report = await ready.Content.ReadAsStringAsync();
            Assert.Contains("Degraded", report);
            Assert.Contains($"127.0.0.1:{port}", report);
        }
        using (var status = JsonDocument.Parse(await http.GetStringAsync($"/api/v1/models/{Model}")))
        {
            Assert.True(status.RootElement.GetProperty("kafka_stream").TryGetProperty("waiting_for_kafka", out _), status.RootElement.ToString());
        }

        // A broker comes up at the address the node was given, as `mlops-stream kafka --port` starts one:
        // with the topics made (librdkafka's mock cannot create them through a forwarded port).
        using var broker = EmbeddedKafka.Start();
        broker.CreateTopics(TopicCatalog.Default.DeclareAll([Model]));
        var target = broker.BootstrapServers.Split(',')[0].Split(':');
        await using var forwarder = TcpForwarder.Start(port, target[0], int.Parse(target[1]));
        await Eventually.HoldsAsync(async () =>
        {
            using var status = JsonDocument.Parse(await http.GetStringAsync($"/api/v1/models/{Model}"));
            var stream = status.RootElement.GetProperty("kafka_stream");
            return stream.GetProperty("running").GetBoolean() && !stream.TryGetProperty("waiting_for_kafka", out _);
        }, "the replica's Kafka stream runs once the broker answers", HostProcess.Timeout, () => node.Output);

        var topics = ModelTopics.For(TopicCatalog.Default, Model);
        using (var producer = new ProducerBuilder<string, byte[]>(new ProducerConfig { BootstrapServers = broker.BootstrapServers }).Build())
        {
            await producer.ProduceAsync(topics.Requests, DemoRequests.Record("kafka-after-outage"));
        }
        using var consumer = new ConsumerBuilder<string?, byte[]>(new ConsumerConfig
        {
            BootstrapServers = broker.BootstrapServers, GroupId = $"read-{Guid.NewGuid():N}", AutoOffsetReset = AutoOffsetReset.Earliest,
        }).Build();
        consumer.Subscribe(topics.Predictions);
        var prediction = await Eventually.ReadsAsync(() => Task.FromResult(consumer.Consume(TimeSpan.FromMilliseconds(500))),
            record => record?.Message.Key == "kafka-after-outage", "the request record gets its prediction", HostProcess.Timeout, _ => node.Output);
        Assert.Contains("probabilities", System.Text.Encoding.UTF8.GetString(prediction!.Message.Value));

        // Every line the node wrote is JSON: librdkafka's own lines went through its logger, and only a few of them.
        var lines = node.Stdout.Concat(node.Stderr).Where(l => l.Length > 0).ToList();
        var notJson = lines.Where(l => !l.StartsWith('{')).ToList();
        Assert.True(notJson.Count == 0, "lines that are not JSON:" + Environment.NewLine + string.Join(Environment.NewLine, notJson.Take(10)));
        var librdkafka = lines.Count(l => l.Contains("\"Category\":\"Librdkafka\"", StringComparison.Ordinal));
        Assert.True(librdkafka is > 0 and < 40, $"{librdkafka} librdkafka lines");
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
