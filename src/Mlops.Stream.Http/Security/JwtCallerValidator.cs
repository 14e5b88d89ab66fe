using System.Security.Cryptography;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Protocols;
using Microsoft.IdentityModel.Protocols.OpenIdConnect;
using Microsoft.IdentityModel.Tokens;

namespace Mlops.Stream.Http.Security;

/// <summary>
/// Checks a bearer JWT (signature, issuer, audience, lifetime) and names its caller and role. The
/// issuer's keys come from a PEM file or from OpenID Connect discovery (fetched once, refreshed by
/// IdentityModel's configuration manager when a token names an unknown key).
/// </summary>
public sealed class JwtCallerValidator
{
    /// <summary>Callers named by a token are <c>jwt:&lt;subject&gt;</c>.</summary>
    public const string CallerPrefix = "jwt:";

    /// <summary>The caller name of a token that did not validate.</summary>
    public const string InvalidTokenName = "invalid-token";

    private readonly JwtOptions _options;
    private readonly JsonWebTokenHandler _handler = new() { MapInboundClaims = false };
    private readonly TokenValidationParameters _parameters;

    public JwtCallerValidator(JwtOptions options)
    {
        _options = options;
        _parameters = new TokenValidationParameters
        {
            ValidIssuer = options.Issuer ?? options.Authority,
            ValidateIssuer = true,
            ValidAudience = options.Audience,
            ValidateAudience = true,
            ValidateLifetime = true,
            RequireExpirationTime = true,
            ClockSkew = options.ClockSkew,
            RoleClaimType = options.RoleClaim,
            NameClaimType = "sub",
        };
        if (!string.IsNullOrWhiteSpace(options.SigningKeyFile))
        {
            _parameters.IssuerSigningKey = ReadPublicKey(options.SigningKeyFile);
        }
        else
        {
            var metadata = options.Authority!.TrimEnd('/') + "/.well-known/openid-configuration";
            _parameters.ConfigurationManager = new ConfigurationManager<OpenIdConnectConfiguration>(
                metadata, new OpenIdConnectConfigurationRetriever(), new HttpDocumentRetriever { RequireHttps = metadata.StartsWith("https://", StringComparison.Ordinal) });
        }
    }

    /// <summary>True when <paramref name="bearer"/> has a JWT's shape (three base64url parts), so it is no API key.</summary>
    public static bool LooksLikeJwt(string bearer) => bearer.Count(c => c == '.') == 2;

    /// <summary>The caller a token names, with the strongest role it holds; <see cref="ApiCaller.Invalid"/> when it does not validate.</summary>
    public async Task<ApiCaller> IdentifyAsync(string token)
    {
        var result = await _handler.ValidateTokenAsync(token, _parameters).ConfigureAwait(false);
        if (!result.IsValid)
        {
            return ApiCaller.Invalid with { Name = InvalidTokenName };
        }

        var identity = result.ClaimsIdentity;
        var roles = identity.FindAll(_options.RoleClaim).SelectMany(c => c.Value.Split(' ', StringSplitOptions.RemoveEmptyEntries)).ToHashSet(StringComparer.Ordinal);
        ApiRole? role = roles.Contains(_options.AdminRole) ? ApiRole.Admin : roles.Contains(_options.InferRole) ? ApiRole.Infer : null;
        // The audit trail names the subject, never the token.
        return new ApiCaller($"{CallerPrefix}{identity.Name ?? "unknown"}", role, false);
    }

    private static SecurityKey ReadPublicKey(string path)
    {
        var pem = File.ReadAllText(path);
        // A SubjectPublicKeyInfo PEM does not say RSA or EC in its label: try EC, then RSA.
        if (TryEc(pem) is { } ec)
        {
            return ec;
        }
        var rsa = RSA.Create();
        rsa.ImportFromPem(pem);
        return new RsaSecurityKey(rsa);
    }

    private static ECDsaSecurityKey? TryEc(string pem)
    {
        try
        {
            var ec = ECDsa.Create();
            ec.ImportFromPem(pem);
            return new ECDsaSecurityKey(ec);
        }
        catch (CryptographicException)
        {
            return null;
        }
    }
}
