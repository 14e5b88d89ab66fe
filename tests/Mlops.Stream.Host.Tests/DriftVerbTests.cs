using Confluent.Kafka;
using Mlops.Stream.Actors.Serving;
using Mlops.Stream.Demo;
using Mlops.Stream.Drift.Windows;
using Mlops.Stream.Host.Tests.Infrastructure;
using Mlops.Stream.Inference.Batching;
using Mlops.Stream.Inference.Registry;
using Mlops.Stream.Inference.Wire;
using Mlops.Stream.Kafka.Embedded;
using Mlops.Stream.Kafka.Topics;

namespace Mlops.Stream.Host.Tests;

/// <summary>
/// Issue 11: <c>drift --model m</c> runs only the drift job, in its own process, against a broker and
/// a registry that already exist: it writes the model's windows to its drift topic, serves
/// <c>/metrics</c>, and stops on SIGTERM with exit code 0. Without a broker address it refuses to start.
/// </summary>
public sealed class DriftVerbTests
{
    private const string Model = "drift-verb";

    [Fact]
    public async Task The_drift_verb_writes_the_models_windows_serves_metrics_and_stops_on_sigterm()
    {
        using var broker = EmbeddedKafka.Start();
        broker.CreateTopics(TopicCatalog.Default.DeclareAll([Model]));
        using var registry = new TempDirectory("drift-verb-registry-");
        await DemoModelBuilder.CreateAsync(new FolderModelRegistry(registry.Path), Model);
        await ProduceServedEventsAsync(broker.BootstrapServers, 100);

        using var job = HostProcess.Start(["drift", "--model", Model, $"--Kafka:BootstrapServers={broker.BootstrapServers}",
            $"--Registry:Path={registry.Path}", "--Drift:WindowEvents=100", "--Drift:MetricsUrl=http://127.0.0.1:0"]);
        var address = await job.Listening.WaitAsync(HostProcess.Timeout);
        using var http = new HttpClient { BaseAddress = address };

        var metrics = await Eventually.ReadsAsync(async () => new PrometheusText(await http.GetStringAsync("/metrics")),
            m => m.Sum("mlops_drift_windows_total", ("model", Model), ("version", "1")) == 1, "the job has written its window",
            HostProcess.Timeout, m => job.Output, TimeSpan.FromMilliseconds(200));
        Assert.Equal(100, metrics.Sum("mlops_drift_events_total", ("model", Model)));
        var window = Assert.Single(ReadDriftTopic(broker.BootstrapServers));
        Assert.Equal((Model, 1, 100), (window.Model, window.Version, window.Events));

        Assert.True(await job.TerminateAsync() == 0, job.Output);
    }

    [Fact]
    public async Task The_drift_verb_without_a_broker_address_refuses_to_start_naming_the_key()
    {
        using var job = HostProcess.Start(["drift", "--model", Model]);

        Assert.Equal(2, await job.ExitCodeWithoutServingAsync());
        Assert.Contains(job.Stderr, line => line.StartsWith("mlops-stream: configuration error: Kafka:BootstrapServers: ", StringComparison.Ordinal));
    }

    /// <summary>Served events as the serving pipeline writes them, one demo-shaped row each.</summary>
    private static async Task ProduceServedEventsAsync(string bootstrap, int count)
    {
        using var producer = new ProducerBuilder<string, byte[]>(new ProducerConfig { BootstrapServers = bootstrap, LingerMs = 5 }).Build();
        var at = DateTimeOffset.UtcNow;
        var sends = Enumerable.Range(0, count).Select(i =>
        {
            var request = new InferenceRequest($"r-{i}", [Tensor.Create("features", Enumerable.Range(0, 30).Select(f => (float)((i + f) % 7)).ToArray(), 1, 30)]);
            var result = BatchResult.Served([Tensor.Create("label", new long[] { 0 }, 1)], Model, 1,
                new BatchTimings(TimeSpan.FromMilliseconds(1), TimeSpan.FromMilliseconds(1), 1, 1));
            var value = ServingRecords.ServedEvent(Model, request, result, new RequestSource("kafka", at, 0, i), at);
            return producer.ProduceAsync($"mlops.served.{Model}.v1", new Message<string, byte[]> { Key = $"r-{i}", Value = value });
        }).ToList();
        await Task.WhenAll(sends);
    }

    private static List<DriftWindowReport> ReadDriftTopic(string bootstrap)
    {
        using var consumer = new ConsumerBuilder<byte[]?, byte[]>(new ConsumerConfig { BootstrapServers = bootstrap, GroupId = $"read-{Guid.NewGuid():N}" }).Build();
        var partition = new TopicPartition($"mlops.drift.{Model}.v1", 0);
        var end = consumer.QueryWatermarkOffsets(partition, TimeSpan.FromSeconds(10)).High.Value;
        consumer.Assign(new TopicPartitionOffset(partition, Offset.Beginning));
        var windows = new List<DriftWindowReport>();
        while (windows.Count < end)
            windows.Add(DriftWindowJson.Deserialize((consumer.Consume(TimeSpan.FromSeconds(10)) ?? throw new TimeoutException("the drift topic did not deliver")).Message.Value));
        return windows;
    }
}
