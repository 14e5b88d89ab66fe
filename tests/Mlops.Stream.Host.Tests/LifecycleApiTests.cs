using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Mlops.Stream.Demo;
using Mlops.Stream.Host.Tests.Infrastructure;
using Mlops.Stream.Inference.Wire;

namespace Mlops.Stream.Host.Tests;

/// <summary>The lifecycle through the admin API on a running node: register → canary → promote → rollback → undeploy → deploy.</summary>
public sealed class LifecycleApiTests
{
    private const string Model = "fraud-demo";

    [Fact]
    public async Task Register_canary_promote_rollback_undeploy_and_deploy_change_what_the_node_serves_and_are_audited()
    {
        await using var node = await TestNode.StartAsync();
        await node.WaitForOkAsync($"/v2/models/{Model}/ready");
        var retrained = DemoModelBuilder.Build(Model, seed: 11);

        // Register version 2 from an upload with a manifest carrying the sample request.
        using var form = new MultipartFormDataContent
        {
            { new ByteArrayContent(retrained.OnnxModel), "file", "model.onnx" },
            { new StringContent($"{{\"labels\":[\"legit\",\"fraud\"],\"sample_request\":{System.Text.Encoding.UTF8.GetString(retrained.SampleRequestJson)}}}"), "manifest" },
        };
        using (var registered = await node.Http.PostAsync($"/api/v1/models/{Model}/versions", form))
        {
            Assert.Equal(HttpStatusCode.Created, registered.StatusCode);
            Assert.Equal(2, (await registered.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("version").GetInt32());
        }

        // Canary 50%: both versions answer, by request id.
        await Post($"/api/v1/models/{Model}/canary", new { version = 2, weight = 0.5 }, node);
        await WaitUntil(async () =>
        {
            var versions = new HashSet<string>();
            for (var i = 0; i < 40; i++) versions.Add(await ServedVersion(node, $"id-{i}", retrained.SampleRequestJson));
            return versions.SetEquals(["1", "2"]);
        }, "both versions serve while the canary runs");

        // Promote 2: everything goes to 2.
        var promoted = await Post($"/api/v1/models/{Model}/promote", new { version = 2 }, node);
        Assert.Equal(2, promoted.GetProperty("aliases").GetProperty("production").GetProperty("version").GetInt32());
        await WaitUntil(async () => await ServedVersion(node, "any", retrained.SampleRequestJson) == "2", "version 2 serves");

        // Rollback: back to 1.
        await Post($"/api/v1/models/{Model}/rollback", null, node);
        await WaitUntil(async () => await ServedVersion(node, "any", retrained.SampleRequestJson) == "1", "version 1 serves again");

        // Undeploy: the model is not served; deploy: it is again.
        await Post($"/api/v1/models/{Model}/undeploy", null, node);
        await WaitUntil(async () =>
        {
            using var response = await node.Http.PostAsync($"/v2/models/{Model}/infer", JsonBody.From(retrained.SampleRequestJson));
            return response.StatusCode == HttpStatusCode.NotFound;
        }, "an undeployed model is not served");
        await Post($"/api/v1/models/{Model}/deploy", null, node);
        await WaitUntil(async () => await ServedVersion(node, "any", retrained.SampleRequestJson) == "1", "the model serves after deploy");

        // Refusals answer with the reason; the audit log has every change, newest first.
        using (var conflict = await node.Http.PostAsJsonAsync($"/api/v1/models/{Model}/canary", new { version = 1, weight = 0.2 }))
            Assert.Equal(HttpStatusCode.Conflict, conflict.StatusCode);
        using (var unknown = await node.Http.PostAsJsonAsync("/api/v1/models/nope/promote", new { version = 1 }))
            Assert.Equal(HttpStatusCode.NotFound, unknown.StatusCode);
        var audit = await node.Http.GetFromJsonAsync<JsonElement>("/api/v1/audit?limit=20");
        // Operators' changes (the replicas also record each swap they made, under their own name).
        var actions = audit.EnumerateArray().Where(a => a.GetProperty("actor").GetString() == "anonymous")
            .Select(a => a.GetProperty("action").GetString()).ToList();
        Assert.Contains(audit.EnumerateArray(), a => a.GetProperty("actor").GetString()!.StartsWith("replica:") && a.GetProperty("action").GetString() == "swap");
        Assert.Equal(["promote", "canary", "deploy", "undeploy", "rollback", "promote", "canary", "register"], actions);
    }

    [Fact]
    public async Task Registering_and_promoting_a_new_model_name_starts_serving_it_without_a_restart()
    {
        await using var node = await TestNode.StartAsync();
        await node.WaitForOkAsync($"/v2/models/{Model}/ready");
        var churn = DemoModelBuilder.Build("churn", seed: 3);

        using (var registered = await node.Http.PostAsync("/api/v1/models/churn/versions", new ByteArrayContent(churn.OnnxModel)))
            Assert.Equal(HttpStatusCode.Created, registered.StatusCode);   // no manifest: the signature is read from the model
        using (var beforePromotion = await node.Http.PostAsync("/v2/models/churn/infer", JsonBody.From(churn.SampleRequestJson)))
            Assert.Equal(HttpStatusCode.NotFound, beforePromotion.StatusCode);
        await Post("/api/v1/models/churn/promote", new { version = 1 }, node);

        await WaitUntil(async () =>
        {
            using var response = await node.Http.PostAsync("/v2/models/churn/infer", JsonBody.From(churn.SampleRequestJson));
            return response.StatusCode == HttpStatusCode.OK;
        }, "the new model serves");
        var metadata = await node.Http.GetFromJsonAsync<JsonElement>("/v2/models/churn");
        Assert.Equal("features", metadata.GetProperty("inputs")[0].GetProperty("name").GetString());
    }

    private static async Task<JsonElement> Post(string path, object? body, TestNode node)
    {
        using var response = body is null ? await node.Http.PostAsync(path, null) : await node.Http.PostAsJsonAsync(path, body);
        var json = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.True(response.IsSuccessStatusCode, $"{path} answered {(int)response.StatusCode}: {json}");
        return json;
    }

    private static async Task<string> ServedVersion(TestNode node, string id, byte[] sample)
    {
        var request = InferenceCodec.DecodeRequest(sample) with { };
        var body = InferenceCodec.EncodeRequest(new InferenceRequest(id, request.Inputs));
        using var response = await node.Http.PostAsync($"/v2/models/{Model}/infer", JsonBody.From(body));
        // While a served model changes version every answer is 200; right after deploy the replica
        // is still loading and answers 503, which the callers below wait out.
        return response.StatusCode == HttpStatusCode.OK
            ? InferenceCodec.DecodeResponse(await response.Content.ReadAsByteArrayAsync()).ModelVersion
            : $"http {(int)response.StatusCode}";
    }

    private static Task WaitUntil(Func<Task<bool>> condition, string what) =>
        Eventually.HoldsAsync(condition, what, TimeSpan.FromSeconds(60));
}
