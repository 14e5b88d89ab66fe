using System.Net;
using System.Net.Http.Json;
using System.Text;
using Confluent.Kafka;
using Microsoft.Extensions.DependencyInjection;
using Mlops.Stream.Actors.Serving;
using Mlops.Stream.Demo;
using Mlops.Stream.Host.Tests.Infrastructure;
using Mlops.Stream.Inference.Gateway;
using Mlops.Stream.Inference.Registry;
using Mlops.Stream.Inference.Wire;
using Mlops.Stream.Kafka.Connection;
using Mlops.Stream.Kafka.Topics;

namespace Mlops.Stream.Host.Tests;

/// <summary>/metrics after a known workload on both paths holds exactly that workload.</summary>
public sealed class MetricsTests
{
    private const string Model = "fraud-demo";
    private const int HttpServed = 20, HttpInvalid = 3, KafkaServed = 30, KafkaMalformed = 2;

    [Fact]
    public async Task After_a_known_workload_the_counters_and_histograms_hold_its_counts()
    {
        await using var node = await TestNode.StartAsync();
        await node.WaitForOkAsync($"/v2/models/{Model}/ready");

        // HTTP: served, refused for their shape, and one for a model that does not exist.
        for (var i = 0; i < HttpServed; i++)
        {
            using var ok = await node.Http.PostAsync($"/v2/models/{Model}/infer", JsonBody.From(Body($"http-{i}", 30)));
            Assert.Equal(HttpStatusCode.OK, ok.StatusCode);
        }
        for (var i = 0; i < HttpInvalid; i++)
        {
            using var bad = await node.Http.PostAsync($"/v2/models/{Model}/infer", JsonBody.From(Body($"bad-{i}", 29)));
            Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
        }
        using (var unknown = await node.Http.PostAsync("/v2/models/no-such-model/infer", JsonBody.From(Body("x", 30))))
            Assert.Equal(HttpStatusCode.NotFound, unknown.StatusCode);

        // Kafka: served, and records that are not JSON at all.
        var topics = ModelTopics.For(TopicCatalog.Default, Model);
        using (var producer = new ProducerBuilder<string, byte[]>(new ProducerConfig
               { BootstrapServers = node.App.Services.GetRequiredService<KafkaEndpoint>().BootstrapServers }).Build())
        {
            for (var i = 0; i < KafkaServed; i++)
                producer.Produce(topics.Requests, new Message<string, byte[]> { Key = $"k-{i}", Value = Body($"kafka-{i}", 30) });
            for (var i = 0; i < KafkaMalformed; i++)
                producer.Produce(topics.Requests, new Message<string, byte[]> { Key = $"m-{i}", Value = Encoding.UTF8.GetBytes("not json") });
            producer.Flush(TimeSpan.FromSeconds(30));
        }

        var metrics = await ScrapeUntil(node, m =>
            m.Sum("mlops_end_to_end_seconds_count", ("model", Model), ("version", "1")) == KafkaServed
            && m.Sum("mlops_dead_letters_total", ("model", Model)) == KafkaMalformed
            && m.Series("mlops_consumer_lag_records", ("model", Model)).Any()
            && m.Sum("mlops_consumer_lag_records", ("model", Model)) == 0
            && m.Sum("mlops_kafka_in_flight_records", ("model", Model)) == 0,
            "every Kafka request acknowledged and committed");

        double Requests(string model, string version, string source, string outcome) =>
            metrics.Sum("mlops_requests_total", ("model", model), ("version", version), ("source", source), ("outcome", outcome));
        Assert.Equal(HttpServed, Requests(Model, "1", "http", "success"));
        Assert.Equal(HttpInvalid, Requests(Model, "", "http", "invalid"));
        Assert.Equal(1, Requests("", "", "http", "invalid"));   // the unknown model's name is not a label
        Assert.Equal(KafkaServed, Requests(Model, "1", "kafka", "success"));
        Assert.Equal(KafkaMalformed, Requests(Model, "", "kafka", "dead_lettered"));
        Assert.Equal(KafkaMalformed, metrics.Sum("mlops_dead_letters_total", ("model", Model), ("code", "invalid_json")));

        // Only served requests reach a batch: queue time per request, batch sizes adding up to them,
        // and one model run per batch.
        var version1 = new[] { ("model", Model), ("version", "1") };
        Assert.Equal(HttpServed + KafkaServed, metrics.Sum("mlops_queue_time_seconds_count", version1));
        Assert.Equal(HttpServed + KafkaServed, metrics.Sum("mlops_batch_size_sum", version1));
        var batches = metrics.Sum("mlops_batch_size_count", version1);
        Assert.InRange(batches, 1, HttpServed + KafkaServed);
        Assert.Equal(batches, metrics.Sum("mlops_inference_seconds_count", version1));
        Assert.Equal(batches, metrics.Sum("mlops_batch_size_bucket", [.. version1, ("le", "+Inf")]));
        Assert.Equal(0, metrics.Sum("mlops_queue_depth", version1));
        Assert.Equal(0, metrics.Sum("mlops_in_flight_requests", version1));

        // Load and warm-up times are exported per version (their values are the bench's business).
        Assert.Single(metrics.Series("mlops_model_load_seconds", version1));
        Assert.Single(metrics.Series("mlops_model_warmup_seconds", version1));
        Assert.Equal(1, metrics.Sum("mlops_cluster_members", ("status", "up")));
        Assert.Equal(0, metrics.Sum("mlops_cluster_unreachable_members"));
        Assert.Equal(1, metrics.Sum("mlops_cluster_leader"));
        Assert.Equal(1, metrics.Sum("mlops_sharding_entities", ("model", Model)));
        Assert.True(metrics.Sum("mlops_sharding_shards") >= 1);
        Assert.Contains("process_cpu_seconds_total", metrics.Text);
        // The managed allocations of the process (the pipeline bench divides its change by the requests).
        Assert.True(metrics.Sum("dotnet_gc_allocated_bytes_total") > 0);
    }

    [Fact]
    public async Task Swaps_and_operator_rollbacks_are_counted_and_the_new_version_load_time_is_exported()
    {
        await using var node = await TestNode.StartAsync();
        await node.WaitForOkAsync($"/v2/models/{Model}/ready");
        var registry = node.App.Services.GetRequiredService<IModelRegistry>();
        var sample = (await registry.GetManifestAsync(Model, 1)).SampleRequest;
        await registry.RegisterVersionAsync(new ModelRegistration(Model, DemoModelBuilder.Build(Model, seed: 5).OnnxModel) { SampleRequest = sample });

        using (var promote = await node.Http.PostAsJsonAsync($"/api/v1/models/{Model}/promote", new { version = 2 }))
            Assert.Equal(HttpStatusCode.OK, promote.StatusCode);
        await ScrapeUntil(node, m => m.Sum("mlops_model_swaps_total", ("model", Model), ("result", "succeeded")) == 1, "the promotion swapped");
        using (var rollback = await node.Http.PostAsync($"/api/v1/models/{Model}/rollback", null))
            Assert.Equal(HttpStatusCode.OK, rollback.StatusCode);

        var metrics = await ScrapeUntil(node, m => m.Sum("mlops_model_swaps_total", ("model", Model), ("result", "succeeded")) == 2,
            "the rollback swapped back");
        Assert.Equal(1, metrics.Sum("mlops_model_rollbacks_total", ("model", Model), ("trigger", "operator")));
        Assert.Equal(0, metrics.Sum("mlops_model_swaps_total", ("model", Model), ("result", "refused")));
        Assert.Single(metrics.Series("mlops_model_load_seconds", ("model", Model), ("version", "2")));
    }

    private static byte[] Body(string id, int features) =>
        InferenceCodec.EncodeRequest(new InferenceRequest(id, [Tensor.Create("features", new float[features], 1, features)]));

    private static Task<PrometheusText> ScrapeUntil(TestNode node, Func<PrometheusText, bool> condition, string what) =>
        Eventually.ReadsAsync(async () =>
        {
            using var response = await node.Http.GetAsync("/metrics");
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.StartsWith("text/plain", response.Content.Headers.ContentType?.ToString());
            return new PrometheusText(await response.Content.ReadAsStringAsync());
        }, condition, $"/metrics shows {what}", TimeSpan.FromSeconds(60),
            metrics => "\n" + string.Join('\n', metrics.Text.Split('\n').Where(l => l.StartsWith("mlops_"))), TimeSpan.FromMilliseconds(200));
}
