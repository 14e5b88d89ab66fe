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
