using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Mlops.Stream.Actors.Tests.Serving;
using Mlops.Stream.Demo;
using Mlops.Stream.Host.Tests.Infrastructure;
using Mlops.Stream.Inference.Registry;
using Mlops.Stream.Inference.Wire;

namespace Mlops.Stream.Host.Tests;

/// <summary>
/// Issue 13, defect 4: a promotion the node cannot serve is refused and says so, and no restart
/// serves the refused version (it used to report success, keep serving the old version, and serve
/// the refused one after a restart).
/// </summary>
public sealed class PromotionRefusalTests
{
    private const string Model = "fraud-demo";

    [Fact]
    public async Task Promoting_a_version_with_other_inputs_is_refused_before_the_alias_moves_and_a_restart_still_serves_version_1()
    {
        using var registryFolder = new TempDirectory("mlops-test-registry-");
        var registry = registryFolder.Path;
        var file = Path.Combine(Path.GetTempPath(), $"feats-{Guid.NewGuid():N}.onnx");
        await File.WriteAllBytesAsync(file, ModelSurgery.RenameInput(DemoModelBuilder.Build(Model, seed: 5).OnnxModel, "feats"));
        await using (var node = await TestNode.StartAsync($"--Registry:Path={registry}"))
        {
            await node.WaitForOkAsync($"/v2/models/{Model}/ready");
            var url = node.Address.ToString();
            Assert.Equal(0, (await MlopsCli.RunAsync("models", "register", Model, "--file", file, "--url", url)).Code);

            var (code, output, error) = await MlopsCli.RunAsync("models", "promote", Model, "2", "--url", url);

            Assert.True(code == 1, $"exit {code}: {output}{error}");
            Assert.DoesNotContain("Promoted", output);
            Assert.Contains("signature_mismatch, HTTP 409", error);
            Assert.Contains("input 'features' is missing", error);
            var model = await node.Http.GetFromJsonAsync<JsonElement>($"/api/v1/models/{Model}");
            Assert.Equal((1, 1), (model.GetProperty("production_version").GetInt32(), model.GetProperty("serving_version").GetInt32()));
        }

        await using (var restarted = await TestNode.StartAsync($"--Registry:Path={registry}"))
        {
            await restarted.WaitForOkAsync($"/v2/models/{Model}/ready");
            Assert.Equal("1", await ServedVersionAsync(restarted, "features"));

            // Declared as a breaking change, the same promotion goes through and answers once version 2 serves.
            using var forced = await restarted.Http.PostAsJsonAsync($"/api/v1/models/{Model}/promote", new { version = 2, force = true });
            Assert.Equal(HttpStatusCode.OK, forced.StatusCode);
            Assert.Equal("serving", (await forced.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("outcome").GetString());
            Assert.Equal("2", await ServedVersionAsync(restarted, "feats"));
        }
    }

    [Fact]
    public async Task A_version_the_replica_refuses_gets_409_version_refused_and_production_goes_back_so_a_restart_serves_version_1()
    {
        using var registryFolder = new TempDirectory("mlops-test-registry-");
        var registry = registryFolder.Path;
        await using (var node = await TestNode.StartAsync($"--Registry:Path={registry}"))
        {
            await node.WaitForOkAsync($"/v2/models/{Model}/ready");
            // Same inputs and outputs and a valid checksum, so it passes every check made before the
            // alias moves; its first run (the warm-up) fails, so the replica refuses it.
            var models = node.App.Services.GetRequiredService<IModelRegistry>();
            var sample = (await models.GetManifestAsync(Model, 1)).SampleRequest;
            await models.RegisterVersionAsync(new ModelRegistration(Model, ModelSurgery.FailingAtRun(DemoModelBuilder.Build(Model, seed: 6).OnnxModel, 30))
            {
                SampleRequest = sample,
            });

            using var refused = await node.Http.PostAsJsonAsync($"/api/v1/models/{Model}/promote?wait_seconds=60", new { version = 2 });

            var body = await refused.Content.ReadFromJsonAsync<JsonElement>();
            Assert.True(refused.StatusCode == HttpStatusCode.Conflict, $"{(int)refused.StatusCode}: {body}");
            Assert.Equal("version_refused", body.GetProperty("code").GetString());
            Assert.Contains("warm-up", body.GetProperty("error").GetString());
            var model = await node.Http.GetFromJsonAsync<JsonElement>($"/api/v1/models/{Model}");
            Assert.Equal((1, 1), (model.GetProperty("production_version").GetInt32(), model.GetProperty("serving_version").GetInt32()));
            var audit = await node.Http.GetFromJsonAsync<JsonElement>("/api/v1/audit?limit=20");
            Assert.Contains(audit.EnumerateArray(), a => a.GetProperty("action").GetString() == "restore-production" && a.GetProperty("result").GetString() == "ok");
        }

        await using (var restarted = await TestNode.StartAsync($"--Registry:Path={registry}"))
        {
            await restarted.WaitForOkAsync($"/v2/models/{Model}/ready");
            Assert.Equal("1", await ServedVersionAsync(restarted, "features"));
        }
    }

    private static async Task<string> ServedVersionAsync(TestNode node, string input)
    {
        var body = InferenceCodec.EncodeRequest(new InferenceRequest("which-version", [Tensor.Create(input, new float[30], 1, 30)]));
        using var content = new ByteArrayContent(body);
        content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("application/json");
        using var response = await node.Http.PostAsync($"/v2/models/{Model}/infer", content);
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"infer answered {(int)response.StatusCode}: {text}");
        return JsonDocument.Parse(text).RootElement.GetProperty("model_version").GetString()!;
    }
}
