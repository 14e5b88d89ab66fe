using System.Net;
using Mlops.Stream.Http.Security;
using Mlops.Stream.Http.Tests.Support;
using Mlops.Stream.Inference.Gateway;
using static Mlops.Stream.Http.Tests.Support.Keys;

namespace Mlops.Stream.Http.Tests.Security;

/// <summary>One app with an admin and an infer key, shared by the matrix (every case is read-only).</summary>
public sealed class KeyedAppFixture : IAsyncLifetime
{
    public TestApp App { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        App = await TestApp.StartAsync(security: s =>
        {
            s.AdminKeys = [Keys.AdminKey];
            s.InferKeys = [Keys.InferKey];
        });
        // Every model with a production version is ready, so /v2/health/ready answers 200.
        App.Gateway.Models = [Models.Fraud, Models.Draft];
        App.Gateway.Reply(new InferReply.Served("""{"id":"r1","model_name":"fraud","model_version":"2","outputs":[]}"""u8.ToArray(), 2));
    }

    public async Task DisposeAsync() => await App.DisposeAsync();
}

/// <summary>
/// Each endpoint group × {no key, wrong key, infer key, admin key} → the documented status:
/// <c>/v2</c> (infer and metadata) needs an infer or admin key, <c>/api/v1</c> an admin key, health never a key.
/// </summary>
public sealed class SecurityMatrixTests(KeyedAppFixture fixture) : IClassFixture<KeyedAppFixture>
{
    public enum Group
    {
        Infer,
        Admin,
        Health,
    }

    private static readonly (string Method, string Path, Group Group)[] Endpoints =
    [
        ("POST", "/v2/models/fraud/infer", Group.Infer),
        ("POST", "/v2/models/fraud/versions/2/infer", Group.Infer),
        ("GET", "/v2/models/fraud", Group.Infer),
        ("GET", "/v2/models/fraud/ready", Group.Infer),
        ("GET", "/v2", Group.Infer),
        ("GET", "/api/v1/models", Group.Admin),
        ("GET", "/api/v1/models/fraud", Group.Admin),
        ("GET", "/healthz/live", Group.Health),
        ("GET", "/healthz/ready", Group.Health),
        ("GET", "/v2/health/live", Group.Health),
        ("GET", "/v2/health/ready", Group.Health),
    ];

    public static TheoryData<string, string, Caller, HttpStatusCode> Matrix()
    {
        var data = new TheoryData<string, string, Caller, HttpStatusCode>();
        foreach (var (method, path, group) in Endpoints)
        {
            foreach (var caller in Enum.GetValues<Caller>())
            {
                data.Add(method, path, caller, Expected(group, caller));
            }
        }
        return data;
    }

    /// <summary>The documented table (README, "Operating").</summary>
    private static HttpStatusCode Expected(Group group, Caller caller) => (group, caller) switch
    {
        (Group.Health, _) => HttpStatusCode.OK,
        (_, Caller.None or Caller.WrongKey) => HttpStatusCode.Unauthorized,
        (Group.Admin, Caller.InferKey) => HttpStatusCode.Forbidden,
        _ => HttpStatusCode.OK,
    };

    [Theory]
    [MemberData(nameof(Matrix))]
    public async Task Each_endpoint_group_gives_the_documented_status_for_each_caller(string method, string path, Caller caller, HttpStatusCode expected)
    {
        var content = method == "POST" ? V2.Json(V2.Request) : null;
        using var request = Request(new HttpMethod(method), path, For(caller), content);

        using var response = await fixture.App.Http.SendAsync(request);

        Assert.Equal(expected, response.StatusCode);
        if (expected == HttpStatusCode.Unauthorized)
        {
            Assert.Equal("Bearer", Assert.Single(response.Headers.WwwAuthenticate).Scheme);
            var error = await V2.ReadErrorAsync(response);
            Assert.Equal(caller == Caller.None ? HttpErrorCodes.KeyRequired : HttpErrorCodes.InvalidKey, error.Code);
            Assert.Equal(["error", "code"], error.Properties);
        }
        else if (expected == HttpStatusCode.Forbidden)
        {
            var error = await V2.ReadErrorAsync(response);
            Assert.Equal(HttpErrorCodes.Forbidden, error.Code);
            Assert.Contains("admin", error.Error);
        }
    }

    [Fact]
    public async Task A_refused_request_never_reaches_the_gateway_and_never_echoes_the_key()
    {
        var before = fixture.App.Gateway.Calls.Count;
        using var request = Request(HttpMethod.Post, "/v2/models/fraud/infer", WrongKey, V2.Json(V2.Request));

        using var response = await fixture.App.Http.SendAsync(request);

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Equal(before, fixture.App.Gateway.Calls.Count);
        Assert.DoesNotContain(WrongKey, await response.Content.ReadAsStringAsync());
    }

    [Theory]
    [InlineData("bearer")]
    [InlineData("BEARER")]
    public async Task The_bearer_scheme_is_case_insensitive(string scheme)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "/api/v1/models");
        request.Headers.TryAddWithoutValidation("Authorization", $"{scheme} {AdminKey}");

        using var response = await fixture.App.Http.SendAsync(request);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    [Fact]
    public async Task Another_scheme_counts_as_no_key()
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "/v2/models/fraud");
        request.Headers.TryAddWithoutValidation("Authorization", "Basic " + Convert.ToBase64String("user:"u8.ToArray()));

        using var response = await fixture.App.Http.SendAsync(request);

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Equal(HttpErrorCodes.KeyRequired, (await V2.ReadErrorAsync(response)).Code);
    }
}

/// <summary>Keys from the environment variables, beside (not instead of) the configured ones.</summary>
public sealed class EnvironmentKeyTests
{
    private const string EnvAdmin = "env-admin-key-5f4e3d2c1b0a";
    private const string EnvInfer = "env-infer-key-a0b1c2d3e4f5";

    [Fact]
    public async Task MLOPS_ADMIN_KEY_and_MLOPS_INFER_KEY_add_a_key_to_their_role()
    {
        // WebApplication maps environment variables into configuration under their own name; setting
        // them there keeps the test from changing this process's environment.
        await using var app = await TestApp.StartAsync(
            configuration: new Dictionary<string, string?>
            {
                [SecurityOptions.AdminKeyVariable] = EnvAdmin,
                [SecurityOptions.InferKeyVariable] = EnvInfer,
            },
            security: s => s.AdminKeys = [Keys.AdminKey]);
        app.Gateway.Models = Models.All;

        Assert.Equal(HttpStatusCode.OK, await StatusAsync(app, "/api/v1/models", EnvAdmin));
        Assert.Equal(HttpStatusCode.OK, await StatusAsync(app, "/api/v1/models", Keys.AdminKey));
        Assert.Equal(HttpStatusCode.Forbidden, await StatusAsync(app, "/api/v1/models", EnvInfer));
        Assert.Equal(HttpStatusCode.OK, await StatusAsync(app, "/v2/models/fraud", EnvInfer));
        Assert.Equal(HttpStatusCode.Unauthorized, await StatusAsync(app, "/v2/models/fraud", null));

        var store = (ApiKeyStore)app.Services.GetService(typeof(ApiKeyStore))!;
        Assert.Equal((2, 1), (store.AdminKeyCount, store.InferKeyCount));
        Assert.Equal(SecurityOptions.AdminKeyVariable, store.Identify(EnvAdmin).Name);
        Assert.Equal("Security:AdminKeys:0", store.Identify(Keys.AdminKey).Name);
    }

    private static async Task<HttpStatusCode> StatusAsync(TestApp app, string path, string? key)
    {
        using var request = Request(HttpMethod.Get, path, key);
        using var response = await app.Http.SendAsync(request);
        return response.StatusCode;
    }
}
