using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Mlops.Stream.Demo;
using Mlops.Stream.Host.Tests.Infrastructure;
using Mlops.Stream.Inference.Registry;

namespace Mlops.Stream.Host.Tests;

/// <summary>
/// Issue 13, defect 8: a model named <c>fraud-demo.dlq</c> was accepted, and its request topic was
/// fraud-demo's dead-letter topic. Names that could make one model's topic another's are refused.
/// </summary>
public sealed class ModelNameTests
{
    [Fact]
    public async Task Registering_a_model_name_with_a_dot_is_refused_with_400_and_nothing_is_stored()
    {
        await using var node = await TestNode.StartAsync();
        var onnx = DemoModelBuilder.Build("fraud-demo", seed: 4).OnnxModel;

        using var response = await node.Http.PostAsync("/api/v1/models/fraud-demo.dlq/versions", new ByteArrayContent(onnx));

        var body = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.True(response.StatusCode == HttpStatusCode.BadRequest, $"{(int)response.StatusCode}: {body}");
        Assert.Equal("invalid_model_name", body.GetProperty("code").GetString());
        Assert.Contains("letters, digits, '_' and '-'", body.GetProperty("error").GetString());
        Assert.Equal(["fraud-demo"], await node.App.Services.GetRequiredService<IModelRegistry>().ListModelsAsync());
    }

    [Theory]
    [InlineData("..%2F..%2Fescaped")]
    [InlineData(".hidden")]
    [InlineData("a%5C..%5Cb")]
    public async Task A_name_that_could_leave_the_registry_folder_is_refused_with_400_by_every_admin_route(string name)
    {
        await using var node = await TestNode.StartAsync();
        var registryRoot = node.App.Services.GetRequiredService<IOptions<Options.RegistryOptions>>().Value.FullPath;

        foreach (var (method, route, body) in new (HttpMethod, string, object?)[]
        {
            (HttpMethod.Post, "promote", new { version = 1 }), (HttpMethod.Post, "canary", new { version = 1, weight = 0.5 }),
            (HttpMethod.Post, "rollback", null), (HttpMethod.Post, "deploy", null), (HttpMethod.Post, "undeploy", null),
            (HttpMethod.Post, "pin", null), (HttpMethod.Post, "unpin", null), (HttpMethod.Post, "scale", new { replicas = 2 }),
            (HttpMethod.Get, "scale", null), (HttpMethod.Post, "versions", null),
        })
        {
            using var request = new HttpRequestMessage(method, $"/api/v1/models/{name}/{route}")
            {
                Content = route == "versions" ? new ByteArrayContent([1, 2, 3]) : body is null ? null : JsonContent.Create(body),
            };
            using var response = await node.Http.SendAsync(request);
            var answer = await response.Content.ReadAsStringAsync();
            Assert.True(response.StatusCode == HttpStatusCode.BadRequest, $"{method} {route}: {(int)response.StatusCode} {answer}");
            Assert.Equal("invalid_model_name", JsonDocument.Parse(answer).RootElement.GetProperty("code").GetString());
        }
        Assert.Equal(["fraud-demo"], await node.App.Services.GetRequiredService<IModelRegistry>().ListModelsAsync());
        Assert.False(Directory.Exists(Path.GetFullPath(Path.Combine(registryRoot, "..", "..", "escaped"))), "nothing was written outside the registry");
    }

    [Fact]
    public async Task A_registry_whose_models_topics_collide_stops_the_node_at_start_naming_the_models_and_the_topic()
    {
        using var registryFolder = new TempDirectory("mlops-test-registry-");
        var registry = registryFolder.Path;
        await DemoModelBuilder.CreateAsync(new FolderModelRegistry(registry));
        // A model folder an older node accepted (or someone made by hand).
        Directory.CreateDirectory(Path.Combine(registry, "fraud-demo.dlq", "1"));
        await using var app = TestNode.Build($"--Registry:Path={registry}");

        var error = await Assert.ThrowsAsync<OptionsValidationException>(() => app.StartAsync());

        Assert.Contains("Registry:Path", error.Message);
        Assert.Contains("model 'fraud-demo.dlq' would use topic 'mlops.requests.fraud-demo.dlq.v1', which is already a topic of model 'fraud-demo'", error.Message);
    }
}
