using System.Net.Http.Json;
using System.Text;
using Confluent.Kafka;
using Microsoft.Extensions.DependencyInjection;
using Mlops.Stream.Actors.Serving;
using Mlops.Stream.Demo;
using Mlops.Stream.Host.Tests.Infrastructure;
using Mlops.Stream.Inference.Gateway;
using Mlops.Stream.Inference.Onnx;
using Mlops.Stream.Inference.Registry;
using Mlops.Stream.Inference.Wire;
using Mlops.Stream.Kafka.Embedded;
using Mlops.Stream.Kafka.Topics;
using Xunit.Abstractions;

namespace Mlops.Stream.Host.Tests;

/// <summary>
/// The product's main job end to end: requests written to Kafka by a plain producer come back as
/// predictions and served events from the demo model, bad ones as dead letters, across a node
/// stopped and started again mid-run. The test owns the broker, so both nodes see the same data.
/// </summary>
public sealed class ServingEndToEndTests(ITestOutputHelper output)
{
    private const string Model = "fraud-demo";
    private const int Features = 30;

    [Fact]
    public async Task Ten_thousand_kafka_requests_get_one_prediction_each_bad_ones_a_dead_letter_and_a_restart_loses_nothing()
    {
        const int count = 10_000;
        using var broker = EmbeddedKafka.Start();
        var topics = ModelTopics.For(TopicCatalog.Default, Model);
        broker.CreateTopics(TopicCatalog.Default.DeclareAll([Model]));
        using var registryFolder = new TempDirectory("mlops-e2e-");
        var registryPath = registryFolder.Path;
        string[] nodeArgs = [$"--Kafka:BootstrapServers={broker.BootstrapServers}", $"--Registry:Path={registryPath}",
            // The embedded broker does not act on a leaving member at once: a new member waits for the
            // old one's session to time out, so keep that short for the restart below.
            "--Kafka:ConsumerProperties:session.timeout.ms=6000", "--Kafka:ConsumerProperties:heartbeat.interval.ms=500"];

        var clock = System.Diagnostics.Stopwatch.StartNew();
        void Phase(string name) => output.WriteLine($"{clock.Elapsed.TotalSeconds,6:F1} s  {name}");
        var requests = Enumerable.Range(0, count).Select(MakeRequest).ToArray();
        var bad = requests.Where(r => r.ExpectedError is not null).ToArray();
        Assert.InRange(bad.Length, 50, 200);

        // First node: takes the first half and is stopped while it works on it.
        var first = await TestNode.StartAsync(nodeArgs);
        await WaitUntilReady(first);
        Phase("first node ready");
        await Produce(broker.BootstrapServers, topics.Requests, requests[..(count / 2)]);
        await WaitUntil(() => EndOffsetSum(broker.BootstrapServers, topics.Predictions) >= 1_000, "the first node is serving");
        await first.DisposeAsync();
        Phase("first node stopped");
        var servedByFirst = EndOffsetSum(broker.BootstrapServers, topics.Predictions);
        output.WriteLine($"first node wrote {servedByFirst} predictions before it stopped");

        // Second node over the same broker and registry: picks up from the committed offsets.
        await using var second = await TestNode.StartAsync(nodeArgs);
        Phase("second node started");
        await Produce(broker.BootstrapServers, topics.Requests, requests[(count / 2)..]);
        var valid = count - bad.Length;
        var predictions = ReadUntil(broker.BootstrapServers, topics.Predictions, distinctIds: valid);
        Phase("predictions read");
        var served = ReadUntil(broker.BootstrapServers, topics.Served, distinctIds: valid);
        var deadLetters = ReadUntil(broker.BootstrapServers, topics.DeadLetters, distinctIds: bad.Length);
        Phase("served and dead letters read");

        // One prediction and one served event per valid request (duplicates only from the restart).
        Assert.Equal(valid, predictions.Select(p => p.Id).Distinct().Count());
        Assert.Equal(valid, served.Select(p => p.Id).Distinct().Count());
        var duplicates = predictions.Count - valid;
        output.WriteLine($"predictions {predictions.Count} for {valid} valid requests ({duplicates} duplicates); dead letters {deadLetters.Count} for {bad.Length}");
        Assert.InRange(duplicates, 0, 256 + 512);   // at most a replica's in-flight requests and its consumer buffer

        // Each prediction equals a direct ONNX Runtime run of the same input.
        using var direct = OnnxModel.Load(await new FolderModelRegistry(registryPath).OpenVersionAsync(Model, 1));
        var byId = requests.ToDictionary(r => r.Id);
        foreach (var prediction in predictions.DistinctBy(p => p.Id))
        {
            var response = InferenceCodec.DecodeResponse(prediction.Value);
            Assert.Equal("1", response.ModelVersion);
            var expected = direct.Run([InferenceCodec.DecodeRequest(byId[prediction.Id].Body)])[0].Outputs!;
            var expectedProbabilities = expected.Single(t => t.Name == "probabilities").Span<float>().ToArray();
            var actualProbabilities = response.FindOutput("probabilities")!.Span<float>().ToArray();
            Assert.Equal(expectedProbabilities, actualProbabilities);
        }

        // Each bad request is dead-lettered once with its original bytes and the reason.
        foreach (var letter in deadLetters.DistinctBy(d => d.Id))
        {
            var request = byId[letter.Id];
            Assert.Equal(request.ExpectedError, letter.ErrorCode);
            Assert.Equal(request.Body, letter.Value);
            Assert.False(string.IsNullOrWhiteSpace(letter.Error));
        }
        Assert.Equal(bad.Select(b => b.Id).Order(), deadLetters.Select(d => d.Id).Distinct().Order());
        Phase("outputs compared");

        // Served events carry the version, timings and where the request came from.
        var sample = System.Text.Json.JsonDocument.Parse(served[0].Value).RootElement;
        Assert.Equal("1", sample.GetProperty("version").GetString());
        Assert.True(sample.GetProperty("batch_size").GetInt32() >= 1);
        Assert.True(sample.GetProperty("source_offset").GetInt64() >= 0);

        // The HTTP edge serves the same batcher: same input, same outputs as the Kafka path.
        var kafkaById = predictions.DistinctBy(p => p.Id).ToDictionary(p => p.Id, p => InferenceCodec.DecodeResponse(p.Value));
        foreach (var request in requests.Where(r => r.ExpectedError is null).Take(25))
        {
            using var response = await second.Http.PostAsync($"/v2/models/{Model}/infer", JsonBody.From(request.Body));
            Assert.Equal(System.Net.HttpStatusCode.OK, response.StatusCode);
            var viaHttp = InferenceCodec.DecodeResponse(await response.Content.ReadAsByteArrayAsync());
            Assert.Equal(request.Id, viaHttp.Id);
            Assert.Equal(kafkaById[request.Id].FindOutput("probabilities")!.Span<float>().ToArray(),
                         viaHttp.FindOutput("probabilities")!.Span<float>().ToArray());
            Assert.Equal(kafkaById[request.Id].FindOutput("label")!.Span<long>().ToArray(), viaHttp.FindOutput("label")!.Span<long>().ToArray());
        }
        var wrongShape = bad.First(b => b.ExpectedError == "shape_mismatch");
        using (var response = await second.Http.PostAsync($"/v2/models/{Model}/infer", JsonBody.From(wrongShape.Body)))
        {
            Assert.Equal(System.Net.HttpStatusCode.BadRequest, response.StatusCode);
            Assert.Contains("shape_mismatch", await response.Content.ReadAsStringAsync());
        }
        using (var response = await second.Http.PostAsync("/v2/models/no-such-model/infer", JsonBody.From(requests[0].Body)))
            Assert.Equal(System.Net.HttpStatusCode.NotFound, response.StatusCode);
        using (var response = await second.Http.PostAsync($"/v2/models/{Model}/versions/2/infer", JsonBody.From(requests[0].Body)))
            Assert.Equal(System.Net.HttpStatusCode.NotFound, response.StatusCode);
        using (var response = await second.Http.GetAsync($"/v2/models/{Model}/ready"))
            Assert.Equal(System.Net.HttpStatusCode.OK, response.StatusCode);
        var models = await second.Http.GetStringAsync("/api/v1/models");
        Assert.Contains("\"ready\"", models);
        Phase("HTTP compared");

        // Offsets are committed up to the end once the second node drains.
        await second.DisposeAsync();
        Phase("second node stopped");
        var committed = Committed(broker.BootstrapServers, ModelTopics.ConsumerGroup(Model), topics.Requests);
        Assert.Equal(EndOffsets(broker.BootstrapServers, topics.Requests), committed);
    }

    private sealed record TestRequest(string Id, byte[] Body, string? ExpectedError);

    private sealed record Output(string Id, byte[] Value, string? Error, string? ErrorCode);

    /// <summary>About 1% of requests are bad: half malformed JSON, half the wrong shape.</summary>
    private static TestRequest MakeRequest(int i)
    {
        var id = $"req-{i}";
        var random = new Random(i);
        if (i % 200 == 7) return new TestRequest(id, Encoding.UTF8.GetBytes($"{{\"id\":\"{id}\",\"inputs\":[{{oops"), "invalid_json");
        var width = i % 200 == 11 ? Features - 1 : Features;
        var features = Enumerable.Range(0, width).Select(_ => (float)(random.NextDouble() * 4 - 2)).ToArray();
        var body = InferenceCodec.EncodeRequest(new InferenceRequest(id, [Tensor.Create("features", features, 1, width)]));
        return new TestRequest(id, body, width == Features ? null : "shape_mismatch");
    }

    private static async Task Produce(string bootstrap, string topic, IEnumerable<TestRequest> requests)
    {
        using var producer = new ProducerBuilder<string, byte[]>(new ProducerConfig { BootstrapServers = bootstrap, LingerMs = 5 }).Build();
        var tasks = requests.Select(r => producer.ProduceAsync(topic, new Message<string, byte[]>
        {
            Key = r.Id,
            Value = r.Body,
            Headers = new Headers { { ServingHeaders.RequestId, Encoding.UTF8.GetBytes(r.Id) } },
        })).ToArray();
        await Task.WhenAll(tasks).WaitAsync(TimeSpan.FromMinutes(1));
    }

    private static async Task WaitUntilReady(TestNode node)
    {
        var gateway = node.App.Services.GetRequiredService<IInferenceGateway>();
        await WaitUntil(() => gateway.GetModelAsync(Model, CancellationToken.None).Result?.State == ReplicaState.Ready, "the demo model is ready");
    }

    private static Task WaitUntil(Func<bool> condition, string what) => Eventually.HoldsAsync(condition, what);

    /// <summary>Reads a topic from the start until <paramref name="distinctIds"/> request ids were seen (or 2 minutes pass).</summary>
    private static List<Output> ReadUntil(string bootstrap, string topic, int distinctIds)
    {
        var config = new ConsumerConfig { BootstrapServers = bootstrap, GroupId = $"reader-{Guid.NewGuid():N}", AutoOffsetReset = AutoOffsetReset.Earliest, EnableAutoCommit = false };
        using var consumer = new ConsumerBuilder<string, byte[]>(config).Build();
        consumer.Subscribe(topic);
        var outputs = new List<Output>();
        var ids = new HashSet<string>();
        var deadline = DateTime.UtcNow + TimeSpan.FromMinutes(2);
        while (ids.Count < distinctIds && DateTime.UtcNow < deadline)
        {
            if (consumer.Consume(TimeSpan.FromMilliseconds(200)) is not { Message: { } message }) continue;
            var id = ServingHeaders.Read(message.Headers, ServingHeaders.RequestId) ?? message.Key;
            ids.Add(id);
            outputs.Add(new Output(id, message.Value, ServingHeaders.Read(message.Headers, ServingHeaders.Error), ServingHeaders.Read(message.Headers, ServingHeaders.ErrorCode)));
        }
        consumer.Close();
        return outputs;
    }

    private static long EndOffsetSum(string bootstrap, string topic) => EndOffsets(bootstrap, topic).Values.Sum();

    private static Dictionary<int, long> EndOffsets(string bootstrap, string topic)
    {
        using var consumer = new ConsumerBuilder<Ignore, Ignore>(new ConsumerConfig { BootstrapServers = bootstrap, GroupId = "offsets-probe" }).Build();
        return Enumerable.Range(0, 8).ToDictionary(p => p, p => consumer.QueryWatermarkOffsets(new TopicPartition(topic, p), TimeSpan.FromSeconds(10)).High.Value);
    }

    private static Dictionary<int, long> Committed(string bootstrap, string group, string topic)
    {
        using var consumer = new ConsumerBuilder<Ignore, Ignore>(new ConsumerConfig { BootstrapServers = bootstrap, GroupId = group }).Build();
        return consumer.Committed(Enumerable.Range(0, 8).Select(p => new TopicPartition(topic, p)), TimeSpan.FromSeconds(10))
            .ToDictionary(c => c.Partition.Value, c => c.Offset.Value);
    }
}

/// <summary>A model that cannot be loaded is reported, not served, and callers are told why.</summary>
public sealed class BrokenModelTests
{
    [Fact]
    public async Task A_production_version_whose_file_is_corrupt_is_reported_failed_and_inference_answers_503_with_the_reason()
    {
        using var registryFolder = new TempDirectory("mlops-broken-");
        var registryPath = registryFolder.Path;
        var registry = new FolderModelRegistry(registryPath);
        await DemoModelBuilder.CreateAsync(registry, "broken");
        var modelFile = Path.Combine(registryPath, "broken", "1", "model.onnx");
        var bytes = await File.ReadAllBytesAsync(modelFile);
        bytes[^10] ^= 0xFF;   // one flipped byte: the checksum no longer matches
        await File.WriteAllBytesAsync(modelFile, bytes);

        await using var node = await TestNode.StartAsync($"--Registry:Path={registryPath}");
        var gateway = node.App.Services.GetRequiredService<IInferenceGateway>();
        var status = await Eventually.ReadsAsync(() => gateway.GetModelAsync("broken", CancellationToken.None),
            s => s?.State == ReplicaState.Failed, "the broken model is reported failed", TimeSpan.FromMinutes(1), s => $"{s?.State}");
        Assert.Contains("sha256", status!.Reason, StringComparison.OrdinalIgnoreCase);

        var request = InferenceCodec.EncodeRequest(new InferenceRequest("r1", [Tensor.Create("features", new float[30], 1, 30)]));
        using var response = await node.Http.PostAsync("/v2/models/broken/infer", JsonBody.From(request));
        Assert.Equal(System.Net.HttpStatusCode.ServiceUnavailable, response.StatusCode);
        Assert.Contains("sha256", await response.Content.ReadAsStringAsync(), StringComparison.OrdinalIgnoreCase);

        // A production model without a serving version keeps the node out of a load balancer.
        using var ready = await node.Http.GetAsync("/healthz/ready");
        Assert.Equal(System.Net.HttpStatusCode.ServiceUnavailable, ready.StatusCode);
        var report = await ready.Content.ReadFromJsonAsync<Mlops.Stream.Http.HealthReportResponse>();
        var models = Assert.Single(report!.Checks, c => c.Name == "models");
        Assert.Equal("Unhealthy", models.Status);
        Assert.Contains("broken (failed: ", models.Description);
    }
}
