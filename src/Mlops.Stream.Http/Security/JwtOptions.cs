namespace Mlops.Stream.Http.Security;

/// <summary>
/// Section <c>Security:Jwt</c>: bearer JWTs from an OpenID Connect issuer, accepted beside API keys.
/// On when <see cref="Authority"/> or <see cref="SigningKeyFile"/> is set. A valid token's
/// <see cref="RoleClaim"/> values give its roles (<see cref="AdminRole"/>, <see cref="InferRole"/>),
/// and the same rules apply as for a key of that role; a valid token without either role is
/// refused with 403, an invalid one (signature, issuer, audience, expiry) with 401.
/// </summary>
public sealed class JwtOptions
{
    /// <summary>The issuer's URL; its signing keys come from <c>{Authority}/.well-known/openid-configuration</c>.</summary>
    public string? Authority { get; set; }

    /// <summary>The <c>iss</c> a token must carry; defaults to <see cref="Authority"/>.</summary>
    public string? Issuer { get; set; }

    /// <summary>The <c>aud</c> a token must carry (required when JWTs are on).</summary>
    public string? Audience { get; set; }

    /// <summary>A PEM file with the issuer's public key (RSA or EC), for issuers without discovery; used instead of <see cref="Authority"/>'s keys.</summary>
    public string? SigningKeyFile { get; set; }

    /// <summary>The claim that carries roles (Keycloak and Entra ID use <c>roles</c>; some issuers <c>groups</c> or <c>scope</c>).</summary>
    public string RoleClaim { get; set; } = "roles";

    public string AdminRole { get; set; } = "admin";

    public string InferRole { get; set; } = "infer";

    /// <summary>Clock difference tolerated on expiry and not-before.</summary>
    public TimeSpan ClockSkew { get; set; } = TimeSpan.FromSeconds(30);

    public bool Enabled => !string.IsNullOrWhiteSpace(Authority) || !string.IsNullOrWhiteSpace(SigningKeyFile);
}
