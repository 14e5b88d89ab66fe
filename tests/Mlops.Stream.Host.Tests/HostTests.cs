using System.Net;
using System.Net.Http.Json;
using System.Net.Sockets;
using Akka.Cluster.Sharding;
using Confluent.Kafka;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Mlops.Stream.Host.Tests.Infrastructure;
using Mlops.Stream.Http;
using Mlops.Stream.Inference.Wire;

namespace Mlops.Stream.Host.Tests;

/// <summary>One node shared by the read-only checks of this class, so the suite starts it once.</summary>
public sealed class RunningNodeFixture : IAsyncLifetime
{
    public TestNode Node { get; private set; } = null!;

    public async Task InitializeAsync() => Node = await TestNode.StartAsync();

    public async Task DisposeAsync() => await Node.DisposeAsync();
}

public sealed class HostTests(RunningNodeFixture fixture) : IClassFixture<RunningNodeFixture>
{
    private TestNode Node => fixture.Node;

    [Fact]
    public async Task The_node_is_live_as_soon_as_it_has_started()
    {
        using var response = await Node.Http.GetAsync("/healthz/live");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var body = await response.Content.ReadFromJsonAsync<HealthReportResponse>();
        Assert.Equal("Healthy", body!.Status);
        Assert.NotEmpty(body.Checks);
    }

    [Fact]
    public async Task The_node_becomes_ready_once_the_cluster_is_up_kafka_answers_the_audit_topic_exists_and_the_models_serve()
    {
        using var response = await Node.WaitForOkAsync("/healthz/ready");

        var body = await response.Content.ReadFromJsonAsync<HealthReportResponse>();
        Assert.Equal(["akka.cluster.join", "kafka", "kafka-clients", "kafka-shared-topics", "models", "shutdown"], body!.Checks.Select(c => c.Name).Order());
        Assert.All(body.Checks, c => Assert.Equal("Healthy", c.Status));
    }

    [Fact]
    public async Task The_system_endpoint_reports_embedded_kafka_that_a_plain_producer_can_use()
    {
        (await Node.WaitForOkAsync("/healthz/ready")).Dispose();

        var info = await Node.Http.GetFromJsonAsync<SystemInfo>("/api/v1/system");

        Assert.Equal("embedded", info!.KafkaMode);
        Assert.Equal("Up", info.ClusterStatus);
        Assert.Equal(1, info.ClusterMembers);
        Assert.StartsWith("akka.tcp://mlops@127.0.0.1:", info.AkkaAddress);
        Assert.False(string.IsNullOrWhiteSpace(info.ServiceVersion));

        using var producer = new ProducerBuilder<string, string>(new ProducerConfig
        {
            BootstrapServers = info.BootstrapServers,
            MessageTimeoutMs = 10_000,
        }).Build();
        var delivery = await producer.ProduceAsync("mlops.audit.v1", new Message<string, string> { Key = "test", Value = "{}" })
            .WaitAsync(TimeSpan.FromSeconds(15));
        Assert.Equal(PersistenceStatus.Persisted, delivery.Status);
        Assert.Equal(0, delivery.Partition.Value);
    }

    [Fact]
    public void The_node_hands_its_connection_limits_to_kestrel()
    {
        var limits = Node.App.Services.GetRequiredService<IOptions<KestrelServerOptions>>().Value.Limits;

        Assert.Equal(1000, limits.MaxConcurrentConnections);
        Assert.Equal(TimeSpan.FromMinutes(2), limits.KeepAliveTimeout);
        Assert.Equal(TimeSpan.FromSeconds(10), limits.RequestHeadersTimeout);
        Assert.Equal(240, limits.MinRequestBodyDataRate!.BytesPerSecond);
    }

    [Fact]
    public async Task Routing_errors_and_non_json_infer_bodies_get_the_usual_error_body()
    {
        using var unknown = await Node.Http.GetAsync("/api/v1/no-such-route");
        using var plain = await Node.Http.PostAsync("/v2/models/fraud-demo/infer", new StringContent("{}"));

        Assert.Equal((HttpStatusCode.NotFound, "not_found"), (unknown.StatusCode, await CodeAsync(unknown)));
        Assert.Equal((HttpStatusCode.UnsupportedMediaType, "unsupported_media_type"), (plain.StatusCode, await CodeAsync(plain)));
    }

    [Fact]
    public async Task A_request_with_more_rows_than_a_batch_is_answered_whole_with_the_same_outputs_as_row_by_row()
    {
        // The demo model runs batches of at most 64 rows: 150 rows run as three parts.
        const int rows = 150;
        var features = Enumerable.Range(0, rows).SelectMany(r => DemoRequests.Features.Select(f => f + r * 0.01f)).ToArray();
        var body = InferenceCodec.EncodeRequest(new InferenceRequest("tall", [Tensor.Create("features", features, rows, 30)]));
        await Node.WaitForOkAsync("/healthz/ready");

        using var response = await Node.Http.PostAsync("/v2/models/fraud-demo/infer", JsonBody.From(body));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var answer = InferenceCodec.DecodeResponse(await response.Content.ReadAsByteArrayAsync());
        var probabilities = answer.Outputs.Single(o => o.Name == "probabilities");
        Assert.Equal([(long)rows, 2], probabilities.Shape.ToArray());
        foreach (var row in new[] { 0, 63, 64, 127, 128, 149 })
        {
            var single = InferenceCodec.EncodeRequest(new InferenceRequest($"row-{row}", [Tensor.Create("features", features[(row * 30)..((row + 1) * 30)], 1, 30)]));
            using var alone = await Node.Http.PostAsync("/v2/models/fraud-demo/infer", JsonBody.From(single));
            var expected = InferenceCodec.DecodeResponse(await alone.Content.ReadAsByteArrayAsync()).Outputs.Single(o => o.Name == "probabilities");
            var got = probabilities.Span<float>().Slice(row * 2, 2).ToArray();
            Assert.All(expected.Span<float>().ToArray().Zip(got), p => Assert.Equal(p.First, p.Second, 1e-5f));
        }
    }

    [Fact]
    public async Task A_binary_request_asking_for_binary_outputs_gets_the_same_numbers_as_the_json_request()
    {
        await Node.WaitForOkAsync("/healthz/ready");
        var features = DemoRequests.Features;
        var raw = new byte[features.Length * 4];
        for (var i = 0; i < features.Length; i++) System.Buffers.Binary.BinaryPrimitives.WriteSingleLittleEndian(raw.AsSpan(i * 4), features[i]);
        var header = System.Text.Encoding.UTF8.GetBytes(
            """{"id":"bin","parameters":{"binary_data_output":true},"inputs":[{"name":"features","datatype":"FP32","shape":[1,30],"parameters":{"binary_data_size":120}}]}""");
        using var content = new ByteArrayContent([.. header, .. raw]);
        content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("application/octet-stream");
        content.Headers.Add("Inference-Header-Content-Length", header.Length.ToString());

        using var binary = await Node.Http.PostAsync("/v2/models/fraud-demo/infer", content);
        using var json = await Node.Http.PostAsync("/v2/models/fraud-demo/infer", JsonBody.From(DemoRequests.Body("json")));

        Assert.Equal(HttpStatusCode.OK, binary.StatusCode);
        var body = await binary.Content.ReadAsByteArrayAsync();
        var length = int.Parse(binary.Headers.GetValues("Inference-Header-Content-Length").Single());
        var expected = InferenceCodec.DecodeResponse(await json.Content.ReadAsByteArrayAsync()).Outputs.Single(o => o.Name == "probabilities").Span<float>().ToArray();
        // Outputs in order (probabilities, label): the probabilities are the first 8 bytes after the header.
        var got = new[] { System.Buffers.Binary.BinaryPrimitives.ReadSingleLittleEndian(body.AsSpan(length)), System.Buffers.Binary.BinaryPrimitives.ReadSingleLittleEndian(body.AsSpan(length + 4)) };
        Assert.Equal(expected, got);
        Assert.Equal(8 + 8, body.Length - length);
    }

    private static async Task<string?> CodeAsync(HttpResponseMessage response) =>
        (await response.Content.ReadFromJsonAsync<ErrorResponse>())?.Code;

    [Fact]
    public void Cluster_sharding_is_configured_and_its_extension_runs()
    {
        var config = Node.ActorSystem.Settings.Config;

        Assert.True(config.HasPath("akka.cluster.sharding.guardian-name"));
        Assert.Equal("ddata", config.GetString("akka.cluster.sharding.state-store-mode"));
        Assert.True(Node.ActorSystem.HasExtension<ClusterSharding>());
    }
}

public sealed class HostLifecycleTests
{
    [Fact]
    public async Task Stopping_the_node_terminates_the_actor_system_and_the_embedded_kafka()
    {
        var node = await TestNode.StartAsync();
        var info = await node.Http.GetFromJsonAsync<SystemInfo>("/api/v1/system");
        var system = node.ActorSystem;
        var first = info!.BootstrapServers.Split(',')[0];
        var (host, port) = (first[..first.LastIndexOf(':')], int.Parse(first[(first.LastIndexOf(':') + 1)..]));

        await node.DisposeAsync();

        await system.WhenTerminated.WaitAsync(TimeSpan.FromSeconds(15));
        Assert.ThrowsAny<SocketException>(() =>
        {
            using var probe = new TcpClient();
            probe.Connect(host, port);
        });
    }

    [Theory]
    [InlineData("--Akka:Port=70000", "Akka:Port")]
    [InlineData("--Akka:Hostname=", "Akka:Hostname")]
    [InlineData("--Akka:SeedNodes:0=not-an-address", "Akka:SeedNodes:0")]
    [InlineData("--Http:Url=ftp://example", "Http:Url")]
    [InlineData("--Grpc:Url=ftp://example", "Grpc:Url")]
    [InlineData("--Drift:WindowEvents=0", "Drift:WindowEvents")]
    [InlineData("--Drift:WindowSpan=-00:01:00", "Drift:WindowSpan")]
    [InlineData("--Drift:DatasetDriftShare=1.5", "Drift:DatasetDriftShare")]
    public void Invalid_settings_needed_to_compose_the_node_fail_naming_their_key(string argument, string key)
    {
        var error = Assert.Throws<OptionsValidationException>(() => TestNode.Build(argument));

        Assert.Contains(key, error.Message);
    }

    [Theory]
    [InlineData("--Kafka:BootstrapServers=no-port-here", "Kafka:BootstrapServers")]
    [InlineData("--Kafka:EmbeddedBrokerCount=0", "Kafka:EmbeddedBrokerCount")]
    public async Task Invalid_kafka_settings_fail_the_start_naming_their_key(string argument, string key)
    {
        await using var app = TestNode.Build(argument);

        var error = await Assert.ThrowsAsync<OptionsValidationException>(() => app.StartAsync());
        Assert.Contains(key, error.Message);
    }
}

public sealed class RegistrySeedingTests
{
    [Fact]
    public async Task A_first_start_with_an_empty_registry_registers_the_demo_model_as_production()
    {
        await using var node = await TestNode.StartAsync();
        var registry = node.App.Services.GetRequiredService<Mlops.Stream.Inference.Registry.IModelRegistry>();

        Assert.Equal(["fraud-demo"], await registry.ListModelsAsync());
        var aliases = await registry.GetAliasesAsync("fraud-demo");
        Assert.Equal(1, aliases.Production);
        // The registered version loads: checksum and signature verified against the ONNX file.
        var artifacts = await registry.OpenVersionAsync("fraud-demo", 1);
        Assert.Equal("features", artifacts.Manifest.Signature.Inputs.Single().Name);
    }

    [Fact]
    public async Task Seeding_can_be_turned_off()
    {
        await using var node = await TestNode.StartAsync("--Registry:CreateDemoWhenEmpty=false");
        var registry = node.App.Services.GetRequiredService<Mlops.Stream.Inference.Registry.IModelRegistry>();
        Assert.Empty(await registry.ListModelsAsync());
    }
}

public sealed class CreateDemoCommandTests
{
    [Fact]
    public async Task The_create_demo_verb_registers_a_trained_model_as_production_in_the_given_registry()
    {
        using var folder = new TempDirectory("mlops-create-demo-");
        var path = folder.Path;

        var exitCode = await Mlops.Stream.Host.Models.CreateDemoCommand.RunAsync(["create-demo", $"--Registry:Path={path}", "--model", "fraud-b", "--seed", "3"]);

        Assert.Equal(0, exitCode);
        var registry = new Mlops.Stream.Inference.Registry.FolderModelRegistry(path);
        Assert.Equal(1, (await registry.GetAliasesAsync("fraud-b")).Production);
        var artifacts = await registry.OpenVersionAsync("fraud-b", 1);   // checksum and signature verified
        Assert.NotNull(artifacts.Manifest.SampleRequest);
    }
}

public sealed class PromotionTests
{
    [Fact]
    public async Task Changing_the_production_alias_in_the_registry_swaps_the_served_version_without_a_restart()
    {
        using var folder = new TempDirectory("mlops-promote-");
        var path = folder.Path;
        await using var node = await TestNode.StartAsync($"--Registry:Path={path}");
        await node.WaitForOkAsync("/v2/models/fraud-demo/ready");
        var registry = node.App.Services.GetRequiredService<Mlops.Stream.Inference.Registry.IModelRegistry>();
        var v1 = await registry.GetManifestAsync("fraud-demo", 1);
        var retrained = Mlops.Stream.Demo.DemoModelBuilder.Build("fraud-demo", seed: 7);
        await registry.RegisterVersionAsync(new Mlops.Stream.Inference.Registry.ModelRegistration("fraud-demo", retrained.OnnxModel) { SampleRequest = v1.SampleRequest });

        await registry.SetAliasAsync("fraud-demo", Mlops.Stream.Inference.Registry.ModelAliases.ProductionAlias, new Mlops.Stream.Inference.Registry.AliasTarget(2));

        var body = retrained.SampleRequestJson;
        await Eventually.ReadsAsync(async () =>
        {
            using var response = await node.Http.PostAsync("/v2/models/fraud-demo/infer", JsonBody.From(body));
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);   // never an error while the version changes
            return Mlops.Stream.Inference.Wire.InferenceCodec.DecodeResponse(await response.Content.ReadAsByteArrayAsync()).ModelVersion;
        }, version => version == "2", "the node serves version 2 after the promotion", TimeSpan.FromSeconds(60));
        var models = await node.Http.GetStringAsync("/api/v1/models");
        Assert.Contains("\"serving_version\":2", models);
    }
}
