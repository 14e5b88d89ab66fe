using System.Net;
using Grpc.Core;
using Mlops.Stream.Grpc.Security;
using Mlops.Stream.Grpc.Tests.Support;
using Mlops.Stream.Http;
using Mlops.Stream.Http.Security;
using Mlops.Stream.Http.Tests.Support;
using Mlops.Stream.Inference.Gateway;
using Protocol = Mlops.Stream.Grpc.Protocol;
using static Mlops.Stream.Http.Tests.Support.Keys;

namespace Mlops.Stream.Grpc.Tests;

/// <summary>The HTTP edge's API keys and rate limits on the gRPC edge: the same keys, roles and budgets.</summary>
public sealed class GrpcSecurityTests
{
    private static readonly byte[] ServedJson = """{"id":"r1","model_name":"fraud","model_version":"2","outputs":[]}"""u8.ToArray();

    [Theory]
    [InlineData(Caller.None, StatusCode.Unauthenticated, HttpErrorCodes.KeyRequired)]
    [InlineData(Caller.WrongKey, StatusCode.Unauthenticated, HttpErrorCodes.InvalidKey)]
    [InlineData(Caller.InferKey, StatusCode.OK, null)]
    [InlineData(Caller.AdminKey, StatusCode.OK, null)]
    public async Task Inference_and_metadata_need_an_infer_or_admin_key_sent_as_bearer_metadata(Caller caller, StatusCode expected, string? code)
    {
        await using var app = await GrpcTestApp.StartAsync(security: s =>
        {
            s.AdminKeys = [AdminKey];
            s.InferKeys = [InferKey];
        });
        app.Gateway.Models = Models.All;
        app.Gateway.Reply(new InferReply.Served(ServedJson, 2));
        var options = GrpcTestApp.WithKey(For(caller));

        var statuses = new List<(StatusCode Status, string? Code)>
        {
            await StatusOf(app.Client.ModelInferAsync(OipRequests.Typed(), options).ResponseAsync),
            await StatusOf(app.Client.ModelMetadataAsync(new Protocol.ModelMetadataRequest { Name = "fraud" }, options).ResponseAsync),
            await StatusOf(app.Client.ModelReadyAsync(new Protocol.ModelReadyRequest { Name = "fraud" }, options).ResponseAsync),
            await StatusOf(app.Client.ServerMetadataAsync(new Protocol.ServerMetadataRequest(), options).ResponseAsync),
        };

        Assert.All(statuses, s => Assert.Equal((expected, code), s));
        Assert.Equal(expected == StatusCode.OK ? 1 : 0, app.Gateway.Calls.Count);
    }

    [Fact]
    public async Task A_bearer_jwt_is_checked_as_over_http_valid_with_its_role_or_unauthenticated()
    {
        using var signer = System.Security.Cryptography.RSA.Create(2048);
        using var folder = new TempDirectory("mlops-grpc-jwt-");
        var keyFile = Path.Combine(folder.Path, "issuer.pem");
        await File.WriteAllTextAsync(keyFile, signer.ExportSubjectPublicKeyInfoPem());
        await using var app = await GrpcTestApp.StartAsync(security: s =>
            s.Jwt = new JwtOptions { Issuer = "https://issuer.test", Audience = "mlops-stream", SigningKeyFile = keyFile });
        app.Gateway.Models = Models.All;
        app.Gateway.Reply(new InferReply.Served(ServedJson, 2));

        var good = await StatusOf(app.Client.ModelInferAsync(OipRequests.Typed(), GrpcTestApp.WithKey(Token(signer, "infer"))).ResponseAsync);
        var forged = await StatusOf(app.Client.ModelInferAsync(OipRequests.Typed(),
            GrpcTestApp.WithKey(Token(System.Security.Cryptography.RSA.Create(2048), "infer"))).ResponseAsync);
        var none = await StatusOf(app.Client.ModelInferAsync(OipRequests.Typed(), GrpcTestApp.WithKey(null)).ResponseAsync);

        Assert.Equal((StatusCode.OK, (string?)null), good);
        Assert.Equal((StatusCode.Unauthenticated, HttpErrorCodes.InvalidKey), forged);
        Assert.Equal((StatusCode.Unauthenticated, HttpErrorCodes.KeyRequired), none);
    }

    private static string Token(System.Security.Cryptography.RSA signer, string role) =>
        new Microsoft.IdentityModel.JsonWebTokens.JsonWebTokenHandler().CreateToken(new Microsoft.IdentityModel.Tokens.SecurityTokenDescriptor
        {
            Issuer = "https://issuer.test",
            Audience = "mlops-stream",
            Subject = new System.Security.Claims.ClaimsIdentity([new System.Security.Claims.Claim("sub", "svc"), new System.Security.Claims.Claim("roles", role)]),
            Expires = DateTime.UtcNow.AddMinutes(5),
            SigningCredentials = new Microsoft.IdentityModel.Tokens.SigningCredentials(
                new Microsoft.IdentityModel.Tokens.RsaSecurityKey(signer), Microsoft.IdentityModel.Tokens.SecurityAlgorithms.RsaSha256),
        });

    [Theory]
    [InlineData(Caller.None)]
    [InlineData(Caller.WrongKey)]
    public async Task Health_calls_never_need_a_key_like_v2_health(Caller caller)
    {
        await using var app = await GrpcTestApp.StartAsync(security: s => s.InferKeys = [InferKey]);

        var options = GrpcTestApp.WithKey(For(caller));
        Assert.True((await app.Client.ServerLiveAsync(new Protocol.ServerLiveRequest(), options)).Live);
        Assert.True((await app.Client.ServerReadyAsync(new Protocol.ServerReadyRequest(), options)).Ready);
    }

    [Fact]
    public async Task Without_an_infer_key_configured_inference_is_open_as_over_http()
    {
        await using var app = await GrpcTestApp.StartAsync(security: s => s.AdminKeys = [AdminKey]);
        app.Gateway.Reply(new InferReply.Served(ServedJson, 2));

        var response = await app.Client.ModelInferAsync(OipRequests.Typed());

        Assert.Equal("r1", response.Id);
    }

    [Fact]
    public async Task One_key_has_one_rate_limit_budget_across_http_and_grpc_and_past_it_grpc_is_resource_exhausted_with_retry_after()
    {
        // A window far longer than the test, so the count cannot reset while it runs.
        await using var app = await GrpcTestApp.StartAsync(security: s =>
        {
            s.AdminKeys = [AdminKey];
            s.InferKeys = [InferKey];
            s.RateLimit.Enabled = true;
            s.RateLimit.PermitLimit = 2;
            s.RateLimit.Window = TimeSpan.FromHours(1);
        });
        app.Gateway.Models = Models.All;
        app.Gateway.Reply(new InferReply.Served(ServedJson, 2));

        using (var request = Request(HttpMethod.Get, "/v2/models/fraud", InferKey))
        {
            Assert.Equal(HttpStatusCode.OK, (await app.Http.SendAsync(request)).StatusCode);
        }
        await app.Client.ModelInferAsync(OipRequests.Typed(), GrpcTestApp.WithKey(InferKey));
        var limited = await Assert.ThrowsAsync<RpcException>(() =>
            app.Client.ModelInferAsync(OipRequests.Typed(), GrpcTestApp.WithKey(InferKey)).ResponseAsync);

        Assert.Equal(StatusCode.ResourceExhausted, limited.StatusCode);
        Assert.Equal(HttpErrorCodes.RateLimited, limited.Trailers.GetValue(GrpcErrors.CodeTrailer));
        Assert.InRange(long.Parse(limited.Trailers.GetValue(GrpcErrors.RetryAfterTrailer)!), 1, 3600);
        Assert.Contains("rate limit of 2 requests", limited.Status.Detail);
        using (var request = Request(HttpMethod.Get, "/v2/models/fraud", InferKey))
        {
            Assert.Equal(HttpStatusCode.TooManyRequests, (await app.Http.SendAsync(request)).StatusCode);
        }
        Assert.Single(app.Gateway.Calls);

        // Another key has its own budget; health calls are never limited.
        await app.Client.ModelInferAsync(OipRequests.Typed(), GrpcTestApp.WithKey(AdminKey));
        for (var i = 0; i < 5; i++)
        {
            Assert.True((await app.Client.ServerLiveAsync(new Protocol.ServerLiveRequest(), GrpcTestApp.WithKey(InferKey))).Live);
        }
    }

    [Theory]
    [InlineData("/inference.GRPCInferenceService/ServerLive", RouteAccess.Open)]
    [InlineData("/inference.GRPCInferenceService/ServerReady", RouteAccess.Open)]
    [InlineData("/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo", RouteAccess.Open)]
    [InlineData("/grpc.reflection.v1.ServerReflection/ServerReflectionInfo", RouteAccess.Open)]
    [InlineData("/inference.GRPCInferenceService/ModelInfer", RouteAccess.Infer)]
    [InlineData("/inference.GRPCInferenceService/ModelMetadata", RouteAccess.Infer)]
    [InlineData("/inference.GRPCInferenceService/ModelReady", RouteAccess.Infer)]
    [InlineData("/inference.GRPCInferenceService/ServerMetadata", RouteAccess.Infer)]
    [InlineData("/inference.GRPCInferenceServiceX/ModelInfer", RouteAccess.Admin)]
    [InlineData("/some.Other/Call", RouteAccess.Admin)]
    public void Each_method_needs_the_role_of_its_http_route_and_unknown_ones_need_admin(string method, RouteAccess access) =>
        Assert.Equal(access, GrpcAccessPolicy.For(method));

    [Theory]
    [InlineData(400, StatusCode.InvalidArgument)]
    [InlineData(401, StatusCode.Unauthenticated)]
    [InlineData(403, StatusCode.PermissionDenied)]
    [InlineData(404, StatusCode.NotFound)]
    [InlineData(413, StatusCode.ResourceExhausted)]
    [InlineData(429, StatusCode.ResourceExhausted)]
    [InlineData(500, StatusCode.Internal)]
    [InlineData(503, StatusCode.Unavailable)]
    [InlineData(504, StatusCode.DeadlineExceeded)]
    public void Each_http_error_status_has_its_grpc_status(int http, StatusCode grpc) => Assert.Equal(grpc, GrpcErrors.CodeFor(http));

    [Fact]
    public void A_refusal_for_a_role_the_key_lacks_is_permission_denied_with_the_http_code()
    {
        // With API keys every valid key holds the infer role, so no gRPC call of today is refused this way;
        // the access rules say 403 for a key whose role falls short, and this is what the gRPC edge answers then.
        var keys = new ApiKeyStore([new KeySource("Security:AdminKeys:0", ApiRole.Admin, AdminKey), new KeySource("Security:InferKeys:0", ApiRole.Infer, InferKey)]);
        var decision = AccessPolicy.Decide(RouteAccess.Admin, keys.IdentifyBearer("Bearer " + InferKey), keys, loopbackOnly: true);

        Assert.Equal(StatusCode.PermissionDenied, GrpcErrors.CodeFor(decision.StatusCode));
        Assert.Equal(HttpErrorCodes.Forbidden, decision.Code);
    }

    private static async Task<(StatusCode, string?)> StatusOf<T>(Task<T> call)
    {
        try
        {
            await call;
            return (StatusCode.OK, null);
        }
        catch (RpcException e)
        {
            return (e.StatusCode, e.Trailers.GetValue(GrpcErrors.CodeTrailer));
        }
    }
}
