using System.Diagnostics;
using System.Net;
using Confluent.Kafka;
using Mlops.Stream.Actors.Serving;
using Mlops.Stream.Faults;
using Mlops.Stream.Host.Tests.Infrastructure;
using Mlops.Stream.Inference.Registry;
using Mlops.Stream.Kafka.Embedded;
using Mlops.Stream.Kafka.Topics;
using Mlops.Stream.Testing;
using Xunit.Abstractions;

namespace Mlops.Stream.Host.Tests.Faults;

/// <summary>
/// A Kafka backlog larger than the node serves at once (issue 14, overload): 40,000 requests wait on
/// the request topic when the node starts. While it works through them (its lag on /metrics shows
/// the backlog), HTTP calls are still served, each with 200; and in the end every request has its
/// prediction, none lost.
/// </summary>
public sealed class KafkaBacklogTests(ITestOutputHelper output)
{
    private const string Model = "fraud-demo";
    private const int Backlog = 40_000;

    [Fact]
    public async Task A_node_working_through_a_large_backlog_still_serves_http_and_loses_nothing()
    {
        using var broker = EmbeddedKafka.Start();
        broker.CreateTopics(TopicCatalog.Default.DeclareAll([Model]));
        var topics = ModelTopics.For(TopicCatalog.Default, Model);
        using (var producer = new ProducerBuilder<string, byte[]>(new ProducerConfig { BootstrapServers = broker.BootstrapServers, LingerMs = 20 }).Build())
        {
            for (var i = 0; i < Backlog; i++)
            {
                while (true)
                {
                    try
                    {
                        producer.Produce(topics.Requests, DemoRequests.Record($"backlog-{i}"));
                        break;
                    }
                    catch (ProduceException<string, byte[]> e) when (e.Error.Code == ErrorCode.Local_QueueFull)
                    {
                        producer.Poll(TimeSpan.FromMilliseconds(50));
                    }
                }
            }
            producer.Flush(TimeSpan.FromSeconds(60));
        }

        using var registry = new TempDirectory("mlops-backlog-");
        await using var node = await TestNode.StartAsync($"--Kafka:BootstrapServers={broker.BootstrapServers}", "--Kafka:FetchWait=00:00:00.005",
            $"--Registry:Path={registry.Path}");
        (await node.WaitForOkAsync($"/v2/models/{Model}/ready")).Dispose();

        // HTTP while the backlog drains: every call served. Calls go on until the Kafka requests are all
        // answered; those made while some were still waiting are the ones that count.
        var calls = 0;
        var callsDuringBacklog = 0;
        var clock = Stopwatch.StartNew();
        while (true)
        {
            var kafkaAnswered = new PrometheusText(await node.Http.GetStringAsync("/metrics")).Sum("mlops_requests_total", ("model", Model), ("source", "kafka"));
            if (kafkaAnswered >= Backlog || clock.Elapsed > TimeSpan.FromMinutes(3)) break;
            for (var i = 0; i < 10; i++, calls++, callsDuringBacklog++)
            {
                using var response = await node.Http.PostAsync($"/v2/models/{Model}/infer", JsonBody.From(DemoRequests.Body($"http-{calls}")));
                Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            }
        }
        output.WriteLine($"{callsDuringBacklog} HTTP calls served while the {Backlog:N0}-request backlog drained ({clock.ElapsedMilliseconds} ms)");
        Assert.True(callsDuringBacklog >= 10, "the backlog was gone before any HTTP call, so they show nothing about it");

        await Eventually.ReadsAsync(async () => new PrometheusText(await node.Http.GetStringAsync("/metrics")).Sum("mlops_requests_total", ("model", Model), ("source", "kafka")),
            answered => answered >= Backlog, $"all {Backlog} Kafka requests are answered", TimeSpan.FromMinutes(3), answered => $"{answered}", TimeSpan.FromSeconds(1));
        using var oracle = new RegistryOracle(new FolderModelRegistry(registry.Path));
        var report = new DeliveryChecker(oracle).Check(ModelTopicContents.Read(broker.BootstrapServers, topics));
        output.WriteLine(report.ToString());
        Assert.Equal((Backlog, 0, 0), (report.Sent, report.Lost, report.Wrong));
    }
}
