using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Mlops.Stream.Host.Tests.Infrastructure;
using Mlops.Stream.Http;

namespace Mlops.Stream.Host.Tests;

/// <summary>The node as Program.cs composes it, with keys configured: security sits in front of the real endpoints.</summary>
public sealed class HostSecurityTests
{
    private const string AdminKey = "host-admin-key-1f2e3d4c5b6a";
    private const string InferKey = "host-infer-key-6a5b4c3d2e1f";

    [Fact]
    public async Task With_keys_configured_the_node_enforces_roles_keeps_probes_open_and_refuses_too_deep_inference_json()
    {
        await using var node = await TestNode.StartAsync($"--Security:AdminKeys:0={AdminKey}", $"--Security:InferKeys:0={InferKey}");

        Assert.Equal(HttpStatusCode.OK, (await node.Http.GetAsync("/healthz/live")).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, await StatusAsync(node, HttpMethod.Get, "/api/v1/system", null));
        Assert.Equal(HttpStatusCode.Forbidden, await StatusAsync(node, HttpMethod.Get, "/api/v1/system", InferKey));
        Assert.Equal(HttpStatusCode.OK, await StatusAsync(node, HttpMethod.Get, "/api/v1/system", AdminKey));
        Assert.Equal(HttpStatusCode.Unauthorized, await StatusAsync(node, HttpMethod.Get, "/v2", null));
        Assert.Equal(HttpStatusCode.OK, await StatusAsync(node, HttpMethod.Get, "/v2", InferKey));

        // Once the demo model serves, the v2 codec refuses nesting deeper than its limit (64) as invalid JSON.
        (await node.WaitForOkAsync("/v2/health/ready")).Dispose();
        var deep = "{\"id\":\"deep\",\"inputs\":[{\"name\":\"features\",\"shape\":[1,30],\"datatype\":\"FP32\",\"data\":"
                   + new string('[', 200) + "1" + new string(']', 200) + "}]}";
        using var request = Request(HttpMethod.Post, "/v2/models/fraud-demo/infer", InferKey);
        request.Content = JsonBody.From(Encoding.UTF8.GetBytes(deep));
        using var response = await node.Http.SendAsync(request);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        using var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.Equal("invalid_json", body.RootElement.GetProperty("code").GetString());
        Assert.Contains("depth", body.RootElement.GetProperty("error").GetString());
    }

    [Fact]
    public async Task A_short_key_stops_the_start_naming_the_setting_but_not_the_key()
    {
        var e = await Assert.ThrowsAnyAsync<Exception>(async () =>
        {
            await using var node = await TestNode.StartAsync("--Security:InferKeys:0=tooshort");
        });

        Assert.Contains("Security:InferKeys:0", e.Message);
        Assert.DoesNotContain("tooshort", e.Message);
    }

    private static HttpRequestMessage Request(HttpMethod method, string path, string? key)
    {
        var request = new HttpRequestMessage(method, path);
        if (key is not null) request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", key);
        return request;
    }

    private static async Task<HttpStatusCode> StatusAsync(TestNode node, HttpMethod method, string path, string? key)
    {
        using var request = Request(method, path, key);
        using var response = await node.Http.SendAsync(request);
        return response.StatusCode;
    }
}
