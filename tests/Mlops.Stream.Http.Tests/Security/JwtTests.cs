using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Security.Claims;
using System.Security.Cryptography;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;
using Mlops.Stream.Http.Security;
using Mlops.Stream.Http.Tests.Support;
using Mlops.Stream.Inference.Gateway;

namespace Mlops.Stream.Http.Tests.Security;

/// <summary>
/// Bearer JWTs beside API keys: the tests sign their own tokens with an RSA key whose public half the
/// app reads from a PEM file. The role rules are the keys' rules: admin for /api/v1, infer (or
/// admin) for /v2; a bad token is 401, a good one without a role 403.
/// </summary>
public sealed class JwtTests : IAsyncLifetime
{
    private const string Issuer = "https://issuer.test";
    private const string Audience = "mlops-stream";
    private readonly RSA _signer = RSA.Create(2048);
    private readonly TempDirectory _folder = new("mlops-jwt-");
    private TestApp _app = null!;

    public async Task InitializeAsync()
    {
        var keyFile = Path.Combine(_folder.Path, "issuer.pem");
        await File.WriteAllTextAsync(keyFile, _signer.ExportSubjectPublicKeyInfoPem());
        _app = await TestApp.StartAsync(security: s =>
        {
            s.AdminKeys = [Keys.AdminKey];
            s.Jwt = new JwtOptions { Issuer = Issuer, Audience = Audience, SigningKeyFile = keyFile };
        });
        _app.Gateway.Models = [Models.Fraud];
        _app.Gateway.Reply(new InferReply.Served("""{"id":"r1","model_name":"fraud","model_version":"2","outputs":[]}"""u8.ToArray(), 2));
    }

    public async Task DisposeAsync()
    {
        await _app.DisposeAsync();
        _folder.Dispose();
        _signer.Dispose();
    }

    [Theory]
    [InlineData("admin", "/api/v1/models", HttpStatusCode.OK)]
    [InlineData("admin", "/v2/models/fraud", HttpStatusCode.OK)]
    [InlineData("infer", "/v2/models/fraud", HttpStatusCode.OK)]
    [InlineData("infer", "/api/v1/models", HttpStatusCode.Forbidden)]
    [InlineData("reader", "/v2/models/fraud", HttpStatusCode.Forbidden)]
    [InlineData(null, "/v2/models/fraud", HttpStatusCode.Unauthorized)]
    public async Task A_valid_token_gets_what_its_role_allows(string? role, string path, HttpStatusCode expected)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, path);
        if (role is not null) request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", Token(role));

        using var response = await _app.Http.SendAsync(request);

        Assert.Equal(expected, response.StatusCode);
    }

    [Fact]
    public async Task Infer_works_with_an_infer_token()
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/v2/models/fraud/infer") { Content = V2.Json(V2.Request) };
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", Token("infer", subject: "svc-checkout"));

        using var response = await _app.Http.SendAsync(request);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    [Theory]
    [InlineData("expired")]
    [InlineData("audience")]
    [InlineData("issuer")]
    [InlineData("signature")]
    public async Task A_token_that_does_not_validate_is_401_invalid_token(string flaw)
    {
        var token = flaw switch
        {
            "expired" => Token("admin", expires: DateTime.UtcNow.AddMinutes(-10)),
            "audience" => Token("admin", audience: "someone-else"),
            "issuer" => Token("admin", issuer: "https://evil.test"),
            _ => Token("admin", signer: RSA.Create(2048)),
        };
        using var request = new HttpRequestMessage(HttpMethod.Get, "/api/v1/models");
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);

        using var response = await _app.Http.SendAsync(request);

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        var body = await response.Content.ReadFromJsonAsync<ErrorResponse>();
        Assert.Equal("invalid_key", body!.Code);
        Assert.Contains("bearer token is not valid", body.Error);
        Assert.Contains("invalid_token", response.Headers.WwwAuthenticate.ToString());
    }

    [Fact]
    public async Task Api_keys_still_work_beside_tokens()
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "/api/v1/models");
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", Keys.AdminKey);

        using var response = await _app.Http.SendAsync(request);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    private string Token(string role, string subject = "tester", string issuer = Issuer, string audience = Audience,
        DateTime? expires = null, RSA? signer = null)
    {
        var descriptor = new SecurityTokenDescriptor
        {
            Issuer = issuer,
            Audience = audience,
            Subject = new ClaimsIdentity([new Claim("sub", subject), new Claim("roles", role)]),
            NotBefore = (expires ?? DateTime.UtcNow.AddMinutes(5)).AddMinutes(-30),
            IssuedAt = (expires ?? DateTime.UtcNow.AddMinutes(5)).AddMinutes(-30),
            Expires = expires ?? DateTime.UtcNow.AddMinutes(5),
            SigningCredentials = new SigningCredentials(new RsaSecurityKey(signer ?? _signer), SecurityAlgorithms.RsaSha256),
        };
        return new JsonWebTokenHandler().CreateToken(descriptor);
    }
}
