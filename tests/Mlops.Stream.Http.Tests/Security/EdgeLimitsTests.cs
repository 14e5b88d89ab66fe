using System.Net;
using System.Text;
using Microsoft.Net.Http.Headers;
using Mlops.Stream.Http.Tests.Support;
using Mlops.Stream.Inference.Gateway;
using static Mlops.Stream.Http.Tests.Support.Keys;

namespace Mlops.Stream.Http.Tests.Security;

/// <summary>Rate limiting per caller, the JSON depth limit and the CORS allow-list.</summary>
public sealed class EdgeLimitsTests
{
    [Fact]
    public async Task Past_its_limit_a_caller_gets_429_with_retry_after_and_the_error_body_while_other_callers_and_health_are_unaffected()
    {
        // A window far longer than the test, so the count cannot reset while it runs.
        await using var app = await TestApp.StartAsync(security: s =>
        {
            s.AdminKeys = [AdminKey];
            s.InferKeys = [InferKey];
            s.RateLimit.Enabled = true;
            s.RateLimit.PermitLimit = 2;
            s.RateLimit.Window = TimeSpan.FromHours(1);
        });
        app.Gateway.Models = Models.All;

        Assert.Equal(HttpStatusCode.OK, await StatusAsync(app, "/v2/models/fraud", InferKey));
        Assert.Equal(HttpStatusCode.OK, await StatusAsync(app, "/v2/models/fraud", InferKey));
        using (var request = Request(HttpMethod.Get, "/v2/models/fraud", InferKey))
        using (var limited = await app.Http.SendAsync(request))
        {
            Assert.Equal(HttpStatusCode.TooManyRequests, limited.StatusCode);
            var retryAfter = limited.Headers.RetryAfter?.Delta;
            Assert.NotNull(retryAfter);
            Assert.InRange(retryAfter.Value, TimeSpan.FromSeconds(1), TimeSpan.FromHours(1));
            var error = await V2.ReadErrorAsync(limited);
            Assert.Equal(HttpErrorCodes.RateLimited, error.Code);
            Assert.Equal(["error", "code"], error.Properties);
        }

        // Another key has its own budget; probes are never limited.
        Assert.Equal(HttpStatusCode.OK, await StatusAsync(app, "/v2/models/fraud", AdminKey));
        for (var i = 0; i < 5; i++)
        {
            Assert.Equal(HttpStatusCode.OK, await StatusAsync(app, "/healthz/live", null));
        }
    }

    [Fact]
    public async Task Anonymous_callers_are_limited_per_client_address_wrong_keys_included()
    {
        await using var app = await TestApp.StartAsync(security: s =>
        {
            s.AdminKeys = [AdminKey];
            s.RateLimit.Enabled = true;
            s.RateLimit.PermitLimit = 2;
            s.RateLimit.Window = TimeSpan.FromHours(1);
        });

        Assert.Equal(HttpStatusCode.Unauthorized, await StatusAsync(app, "/api/v1/models", WrongKey));
        Assert.Equal(HttpStatusCode.Unauthorized, await StatusAsync(app, "/api/v1/models", null));
        Assert.Equal(HttpStatusCode.TooManyRequests, await StatusAsync(app, "/api/v1/models", WrongKey));
        Assert.Equal(HttpStatusCode.OK, await StatusAsync(app, "/api/v1/models", AdminKey));
    }

    [Fact]
    public async Task By_default_one_caller_is_not_limited_a_backend_calling_from_one_address_gets_the_nodes_capacity()
    {
        // Issue 12: the old default (1,000 per second per caller) throttled a single backend far below
        // what the node serves. A window far longer than the test shows no count is kept at all.
        await using var app = await TestApp.StartAsync(security: s => s.RateLimit.Window = TimeSpan.FromHours(1));

        for (var i = 0; i < 1_100; i++)
        {
            Assert.Equal(HttpStatusCode.OK, await StatusAsync(app, "/api/v1/models", null));
        }
    }

    [Fact]
    public async Task Turning_the_limiter_off_lets_every_request_through()
    {
        await using var app = await TestApp.StartAsync(security: s =>
        {
            s.RateLimit.Enabled = false;
            s.RateLimit.PermitLimit = 1;
        });

        for (var i = 0; i < 3; i++)
        {
            Assert.Equal(HttpStatusCode.OK, await StatusAsync(app, "/api/v1/models", null));
        }
    }

    [Fact]
    public async Task A_json_body_nested_deeper_than_the_limit_is_400_with_the_error_body()
    {
        await using var app = await TestApp.StartAsync(security: s => s.MaxJsonDepth = 8);

        using var shallow = await app.Http.PostAsync(TestApp.JsonEchoPath, V2.Json(Nested(8)));
        using var deep = await app.Http.PostAsync(TestApp.JsonEchoPath, V2.Json(Nested(9)));

        Assert.Equal(HttpStatusCode.OK, shallow.StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, deep.StatusCode);
        var error = await V2.ReadErrorAsync(deep);
        Assert.Equal(HttpErrorCodes.BadRequest, error.Code);
        Assert.Contains("depth", error.Error);
    }

    [Fact]
    public async Task The_default_depth_limit_refuses_a_pathologically_nested_body()
    {
        await using var app = await TestApp.StartAsync();

        using var deep = await app.Http.PostAsync(TestApp.JsonEchoPath, V2.Json(Nested(10_000)));

        Assert.Equal(HttpStatusCode.BadRequest, deep.StatusCode);
        Assert.Equal(HttpErrorCodes.BadRequest, (await V2.ReadErrorAsync(deep)).Code);
    }

    [Fact]
    public async Task An_allowed_origin_gets_cors_headers_and_others_do_not()
    {
        await using var app = await TestApp.StartAsync(security: s =>
        {
            s.InferKeys = [InferKey];
            s.CorsOrigins = ["https://dashboard.example.com"];
        });
        app.Gateway.Models = Models.All;

        using var allowed = await SendWithOriginAsync(app, "https://dashboard.example.com");
        using var other = await SendWithOriginAsync(app, "https://evil.example.net");

        Assert.Equal(HttpStatusCode.OK, allowed.StatusCode);
        Assert.Equal("https://dashboard.example.com", Assert.Single(allowed.Headers.GetValues(HeaderNames.AccessControlAllowOrigin)));
        Assert.Equal(HttpStatusCode.OK, other.StatusCode);
        Assert.False(other.Headers.Contains(HeaderNames.AccessControlAllowOrigin));
    }

    [Fact]
    public async Task A_preflight_from_an_allowed_origin_needs_no_key()
    {
        await using var app = await TestApp.StartAsync(security: s =>
        {
            s.InferKeys = [InferKey];
            s.CorsOrigins = ["https://dashboard.example.com"];
        });
        using var preflight = new HttpRequestMessage(HttpMethod.Options, "/v2/models/fraud/infer");
        preflight.Headers.Add(HeaderNames.Origin, "https://dashboard.example.com");
        preflight.Headers.Add(HeaderNames.AccessControlRequestMethod, "POST");
        preflight.Headers.Add(HeaderNames.AccessControlRequestHeaders, "authorization,content-type");

        using var response = await app.Http.SendAsync(preflight);

        Assert.Equal(HttpStatusCode.NoContent, response.StatusCode);
        Assert.Equal("https://dashboard.example.com", Assert.Single(response.Headers.GetValues(HeaderNames.AccessControlAllowOrigin)));
        Assert.Contains("POST", string.Join(",", response.Headers.GetValues(HeaderNames.AccessControlAllowMethods)));
    }

    [Fact]
    public async Task Without_configured_origins_no_cors_header_is_sent()
    {
        await using var app = await TestApp.StartAsync(security: s => s.InferKeys = [InferKey]);
        app.Gateway.Models = Models.All;

        using var response = await SendWithOriginAsync(app, "https://dashboard.example.com");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.False(response.Headers.Contains(HeaderNames.AccessControlAllowOrigin));
    }

    private static async Task<HttpResponseMessage> SendWithOriginAsync(TestApp app, string origin)
    {
        using var request = Request(HttpMethod.Get, "/v2/models/fraud", InferKey);
        request.Headers.Add(HeaderNames.Origin, origin);
        return await app.Http.SendAsync(request);
    }

    private static string Nested(int depth)
    {
        // depth - 1 arrays around an object: {"a":[[...[1]...]]} has exactly `depth` levels.
        var json = new StringBuilder();
        json.Append("{\"a\":");
        json.Append('[', depth - 1).Append('1').Append(']', depth - 1);
        return json.Append('}').ToString();
    }

    private static async Task<HttpStatusCode> StatusAsync(TestApp app, string path, string? key)
    {
        using var request = Request(HttpMethod.Get, path, key);
        using var response = await app.Http.SendAsync(request);
        return response.StatusCode;
    }
}
