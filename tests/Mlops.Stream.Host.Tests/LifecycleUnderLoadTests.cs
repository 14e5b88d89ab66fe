using System.Collections.Concurrent;
using System.Net;
using System.Net.Http.Json;
using Akka.Actor;
using Akka.Hosting;
using Confluent.Kafka;
using Microsoft.Extensions.DependencyInjection;
using Mlops.Stream.Actors.Serving;
using Mlops.Stream.Demo;
using Mlops.Stream.Host.Tests.Infrastructure;
using Mlops.Stream.Inference.Gateway;
using Mlops.Stream.Inference.Registry;
using Mlops.Stream.Kafka.Embedded;
using Mlops.Stream.Kafka.Topics;
using Xunit.Abstractions;

namespace Mlops.Stream.Host.Tests;

/// <summary>
/// The lifecycle issue's load test: Kafka requests and HTTP clients flow while the admin API makes
/// 10 promotions, 2 canary changes and 2 rollbacks. No HTTP request fails, no Kafka request is lost,
/// and the replaced ONNX sessions are released.
/// </summary>
public sealed class LifecycleUnderLoadTests(ITestOutputHelper output)
{
    private const string Model = "fraud-demo";

    [Fact]
    public async Task Promotions_canaries_and_rollbacks_under_load_on_both_paths_fail_and_lose_nothing()
    {
        using var broker = EmbeddedKafka.Start();
        broker.CreateTopics(TopicCatalog.Default.DeclareAll([Model]));
        var topics = ModelTopics.For(TopicCatalog.Default, Model);
        await using var node = await TestNode.StartAsync($"--Kafka:BootstrapServers={broker.BootstrapServers}");
        await node.WaitForOkAsync($"/v2/models/{Model}/ready");

        // Versions 2 and 3 beside the seeded version 1.
        var registry = node.App.Services.GetRequiredService<IModelRegistry>();
        var sample = (await registry.GetManifestAsync(Model, 1)).SampleRequest;
        foreach (var seed in new[] { 2, 3 })
            await registry.RegisterVersionAsync(new ModelRegistration(Model, DemoModelBuilder.Build(Model, seed).OnnxModel) { SampleRequest = sample });

        using var stop = new CancellationTokenSource();
        var httpFailures = new ConcurrentBag<string>();
        var httpServed = 0;
        var httpClients = Enumerable.Range(0, 3).Select(client => Task.Run(async () =>
        {
            for (var i = 0; !stop.IsCancellationRequested; i++)
            {
                using var response = await node.Http.PostAsync($"/v2/models/{Model}/infer", JsonBody.From(DemoRequests.Body($"http-{client}-{i}")));
                if (response.StatusCode == HttpStatusCode.OK) Interlocked.Increment(ref httpServed);
                else httpFailures.Add($"{(int)response.StatusCode}: {await response.Content.ReadAsStringAsync()}");
            }
        })).ToArray();

        var kafkaSent = 0;
        var kafkaFailed = 0;
        var producer = Task.Run(async () =>
        {
            using var kafka = new ProducerBuilder<string, byte[]>(new ProducerConfig { BootstrapServers = broker.BootstrapServers, LingerMs = 5 }).Build();
            for (var i = 0; !stop.IsCancellationRequested; i++)
            {
                var id = $"kafka-{i}";
                kafka.Produce(topics.Requests, DemoRequests.Record(id), report => { if (report.Error.IsError) Interlocked.Increment(ref kafkaFailed); });
                kafkaSent = i + 1;
                if (i % 10 == 9) await Task.Delay(10);   // a steady stream of several hundred requests a second
            }
            kafka.Flush(TimeSpan.FromSeconds(30));
        });

        // The changes: 10 promotions, 2 canary changes, 2 rollbacks.
        var changes = new List<(string Path, object? Body, int ExpectedProduction)>();
        var production = 1;
        foreach (var version in new[] { 2, 3, 1, 2, 3 }) changes.Add(($"promote", new { version }, production = version));
        changes.Add(("canary", new { version = 1, weight = 0.3 }, production));
        changes.Add(("canary", new { version = 1, weight = 0.0 }, production));
        changes.Add(("rollback", null, production = 2));
        foreach (var version in new[] { 1, 3, 2, 1, 3 }) changes.Add(($"promote", new { version }, production = version));
        changes.Add(("rollback", null, production = 1));

        var replicas = await node.App.Services.GetRequiredService<IRequiredActor<ModelReplica>>().GetAsync();
        foreach (var (path, body, expected) in changes)
        {
            using var response = body is null
                ? await node.Http.PostAsync($"/api/v1/models/{Model}/{path}", null)
                : await node.Http.PostAsJsonAsync($"/api/v1/models/{Model}/{path}", body);
            Assert.True(response.IsSuccessStatusCode, $"{path}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
            await WaitFor(replicas, s => s.ServingVersion == expected && s.SwappingTo is null, $"{path} → production {expected}");
        }
        await stop.CancelAsync();
        await Task.WhenAll(httpClients.Append(producer));

        // Every Kafka request gets its prediction; versions are the ones that served.
        var predictions = ReadIds(broker.BootstrapServers, topics.Predictions, kafkaSent);
        var final = await WaitFor(replicas, _ => true, "status");
        output.WriteLine($"HTTP served {httpServed}, Kafka sent {kafkaSent}, predictions {predictions.Count}; " +
                         $"disposed sessions {final.DisposedSessions}; versions {string.Join(", ", final.Versions.Select(v => $"v{v.Version}: {v.Served}"))}");
        Assert.Empty(httpFailures);
        Assert.Equal(0, kafkaFailed);
        Assert.True(httpServed > 0);
        Assert.Equal(Enumerable.Range(0, kafkaSent).Select(i => $"kafka-{i}").ToHashSet(), predictions);
        Assert.All(final.Versions, v => Assert.Contains(v.Version, new[] { 1, 2, 3 }));
        Assert.Equal(0, final.Versions.Sum(v => v.Failed));
        // Swaps that loaded a version released the one kept before (rollbacks to the kept version release nothing).
        Assert.True(final.DisposedSessions >= 8, $"only {final.DisposedSessions} sessions released");
    }

    private static Task<ReplicaStatus> WaitFor(IActorRef replicas, Func<ReplicaStatus, bool> condition, string what) =>
        Eventually.ReadsAsync(() => replicas.Ask<ReplicaStatus>(new GetReplicaStatus(ReplicaId.For(Model)), TimeSpan.FromSeconds(10)),
            condition, what, TimeSpan.FromSeconds(60), interval: TimeSpan.FromMilliseconds(20));

    private static HashSet<string> ReadIds(string bootstrap, string topic, int expected)
    {
        var config = new ConsumerConfig { BootstrapServers = bootstrap, GroupId = $"reader-{Guid.NewGuid():N}", AutoOffsetReset = AutoOffsetReset.Earliest, EnableAutoCommit = false, FetchWaitMaxMs = 10 };
        using var consumer = new ConsumerBuilder<string, byte[]>(config).Build();
        consumer.Subscribe(topic);
        var ids = new HashSet<string>();
        var deadline = DateTime.UtcNow + TimeSpan.FromMinutes(1);
        while (ids.Count < expected && DateTime.UtcNow < deadline)
            if (consumer.Consume(TimeSpan.FromMilliseconds(200)) is { Message: { } message })
                ids.Add(ServingHeaders.Read(message.Headers, ServingHeaders.RequestId)!);
        consumer.Close();
        return ids;
    }
}
