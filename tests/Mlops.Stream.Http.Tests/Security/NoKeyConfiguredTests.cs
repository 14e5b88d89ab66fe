using System.Net;
using Mlops.Stream.Http.Tests.Support;
using Mlops.Stream.Inference.Gateway;
using static Mlops.Stream.Http.Tests.Support.Keys;

namespace Mlops.Stream.Http.Tests.Security;

/// <summary>With no key configured: open on loopback for a first try; beyond loopback the admin API refuses every call.</summary>
public sealed class NoKeyConfiguredTests
{
    [Fact]
    public async Task On_loopback_every_route_is_open_without_a_key()
    {
        await using var app = await StartAsync("http://127.0.0.1:0");

        Assert.Equal(HttpStatusCode.OK, await StatusAsync(app, HttpMethod.Get, "/api/v1/models", null));
        Assert.Equal(HttpStatusCode.OK, await StatusAsync(app, HttpMethod.Post, "/v2/models/fraud/infer", null));
        Assert.Equal(HttpStatusCode.OK, await StatusAsync(app, HttpMethod.Get, "/v2/models/fraud", null));
        Assert.Equal(HttpStatusCode.OK, await StatusAsync(app, HttpMethod.Get, "/healthz/live", null));
    }

    [Fact]
    public async Task On_loopback_a_key_that_matches_nothing_is_still_401_so_a_misconfigured_client_learns_at_once()
    {
        await using var app = await StartAsync("http://127.0.0.1:0");

        Assert.Equal(HttpStatusCode.Unauthorized, await StatusAsync(app, HttpMethod.Get, "/api/v1/models", WrongKey));
        Assert.Equal(HttpStatusCode.Unauthorized, await StatusAsync(app, HttpMethod.Post, "/v2/models/fraud/infer", WrongKey));
        Assert.Equal(HttpStatusCode.OK, await StatusAsync(app, HttpMethod.Get, "/healthz/live", WrongKey));
    }

    [Fact]
    public async Task Bound_beyond_loopback_without_an_admin_key_admin_calls_get_403_naming_the_settings_and_inference_stays_open()
    {
        await using var app = await StartAsync("http://0.0.0.0:0");
        Assert.StartsWith("http://0.0.0.0:", app.BoundAddress);

        using var request = Request(HttpMethod.Get, "/api/v1/models", null);
        using var response = await app.Http.SendAsync(request);

        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        var error = await V2.ReadErrorAsync(response);
        Assert.Equal(HttpErrorCodes.AdminKeyNotConfigured, error.Code);
        Assert.Contains("Security:AdminKeys", error.Error);
        Assert.Contains("MLOPS_ADMIN_KEY", error.Error);
        Assert.Equal(HttpStatusCode.OK, await StatusAsync(app, HttpMethod.Post, "/v2/models/fraud/infer", null));
        Assert.Equal(HttpStatusCode.OK, await StatusAsync(app, HttpMethod.Get, "/healthz/ready", null));
    }

    [Fact]
    public async Task Bound_beyond_loopback_with_an_admin_key_the_admin_api_works_with_it()
    {
        await using var app = await StartAsync("http://0.0.0.0:0", s => s.AdminKeys = [AdminKey]);

        Assert.Equal(HttpStatusCode.OK, await StatusAsync(app, HttpMethod.Get, "/api/v1/models", AdminKey));
        Assert.Equal(HttpStatusCode.Unauthorized, await StatusAsync(app, HttpMethod.Get, "/api/v1/models", null));
        Assert.Equal(HttpStatusCode.OK, await StatusAsync(app, HttpMethod.Post, "/v2/models/fraud/infer", null));
    }

    private static async Task<TestApp> StartAsync(string url, Action<Http.Security.SecurityOptions>? security = null)
    {
        var app = await TestApp.StartAsync(url: url, security: security);
        app.Gateway.Models = Models.All;
        app.Gateway.Reply(new InferReply.Served("{}"u8.ToArray(), 2));
        return app;
    }

    private static async Task<HttpStatusCode> StatusAsync(TestApp app, HttpMethod method, string path, string? key)
    {
        using var request = Request(method, path, key, method == HttpMethod.Post ? V2.Json(V2.Request) : null);
        using var response = await app.Http.SendAsync(request);
        return response.StatusCode;
    }
}
