using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Options;

namespace Mlops.Stream.Http.Security;

/// <summary>
/// Section <c>Security</c>: API keys per role, the CORS allow-list, per-caller rate limits and the
/// JSON depth limit of the HTTP edge. Keys also come from the environment variables
/// <see cref="AdminKeyVariable"/> and <see cref="InferKeyVariable"/> (read through configuration, so
/// tests can set them the same way). Never log a key: <see cref="ApiKeyStore"/> names them by source.
/// </summary>
public sealed class SecurityOptions
{
    public const string Section = "Security";

    /// <summary>One more admin key, beside <see cref="AdminKeys"/>; handy for containers and the CLI.</summary>
    public const string AdminKeyVariable = "MLOPS_ADMIN_KEY";

    /// <summary>One more inference key, beside <see cref="InferKeys"/>.</summary>
    public const string InferKeyVariable = "MLOPS_INFER_KEY";

    /// <summary>Shorter keys are refused at start: a key is a password nobody types, so make it long and random.</summary>
    public const int MinKeyLength = 16;

    /// <summary>Keys for <c>/api/v1/*</c> (the admin API); an admin key may also call <c>/v2/*</c>.</summary>
    public string[] AdminKeys { get; set; } = [];

    /// <summary>Keys for <c>/v2/*</c> (inference and model metadata) only.</summary>
    public string[] InferKeys { get; set; } = [];

    /// <summary>Browser origins (<c>https://app.example.com</c>) allowed to call the API. Empty: no CORS headers at all.</summary>
    public string[] CorsOrigins { get; set; } = [];

    /// <summary>Requests per caller (key, or client IP without one); health and metrics are never limited.</summary>
    public RateLimitOptions RateLimit { get; set; } = new();

    /// <summary>
    /// Deepest nesting of JSON bodies that ASP.NET Core binds (admin API bodies). 32 is far beyond any
    /// body we accept. Inference bodies go through the v2 codec, which has its own limit (64).
    /// </summary>
    public int MaxJsonDepth { get; set; } = 32;

    /// <summary>Bearer JWTs from an OpenID Connect issuer, beside the keys (off unless configured).</summary>
    public JwtOptions Jwt { get; set; } = new();
}

/// <summary>Section <c>Security:RateLimit</c>: a fixed window per caller.</summary>
public sealed class RateLimitOptions
{
    /// <summary>
    /// Off by default: one backend calling from one address must get the node's whole capacity, and a
    /// per-caller limit meant to stop a runaway client cannot know that capacity. Turn it on where
    /// untrusted callers reach the node directly (no gateway that limits already).
    /// </summary>
    public bool Enabled { get; set; }

    /// <summary>Requests one caller may make per <see cref="Window"/>. Generous: meant to stop a runaway client, not to meter.</summary>
    public int PermitLimit { get; set; } = 1000;

    /// <summary>Length of the fixed window.</summary>
    public TimeSpan Window { get; set; } = TimeSpan.FromSeconds(1);
}

/// <summary>Checks <see cref="SecurityOptions"/> and the key variables at start; every message names its key and never shows a key.</summary>
public sealed class SecurityOptionsValidator(IConfiguration configuration) : IValidateOptions<SecurityOptions>
{
    public ValidateOptionsResult Validate(string? name, SecurityOptions options)
    {
        var failures = new List<string>();
        foreach (var key in ApiKeyStore.Sources(options, configuration))
        {
            if (string.IsNullOrWhiteSpace(key.Value) || key.Value.Length < SecurityOptions.MinKeyLength)
            {
                failures.Add($"{key.Source} must be a key of at least {SecurityOptions.MinKeyLength} characters (found {key.Value?.Length ?? 0}); generate one with e.g. `openssl rand -hex 32`.");
            }
            else if (key.Value.Any(char.IsWhiteSpace))
            {
                failures.Add($"{key.Source} must not contain whitespace (an Authorization header could not carry it).");
            }
        }

        if (options.Jwt.Enabled)
        {
            var jwt = $"{SecurityOptions.Section}:{nameof(SecurityOptions.Jwt)}";
            if (string.IsNullOrWhiteSpace(options.Jwt.Audience))
                failures.Add($"{jwt}:{nameof(JwtOptions.Audience)} must name the audience tokens are issued for, when JWTs are accepted.");
            if (string.IsNullOrWhiteSpace(options.Jwt.Issuer) && string.IsNullOrWhiteSpace(options.Jwt.Authority))
                failures.Add($"{jwt}:{nameof(JwtOptions.Issuer)} (or {nameof(JwtOptions.Authority)}) must name the issuer tokens come from.");
            if (!string.IsNullOrWhiteSpace(options.Jwt.SigningKeyFile) && !File.Exists(options.Jwt.SigningKeyFile))
                failures.Add($"{jwt}:{nameof(JwtOptions.SigningKeyFile)} must be a PEM file with the issuer's public key (found no file '{options.Jwt.SigningKeyFile}').");
            if (!string.IsNullOrWhiteSpace(options.Jwt.Authority) && !Uri.TryCreate(options.Jwt.Authority, UriKind.Absolute, out _))
                failures.Add($"{jwt}:{nameof(JwtOptions.Authority)} must be the issuer's URL (found '{options.Jwt.Authority}').");
        }

        for (var i = 0; i < options.CorsOrigins.Length; i++)
        {
            var origin = options.CorsOrigins[i];
            if (!Uri.TryCreate(origin, UriKind.Absolute, out var uri) || (uri.Scheme != Uri.UriSchemeHttp && uri.Scheme != Uri.UriSchemeHttps)
                || uri.PathAndQuery != "/" || origin.EndsWith('/'))
            {
                failures.Add($"{SecurityOptions.Section}:{nameof(SecurityOptions.CorsOrigins)}:{i} must be an origin such as https://app.example.com (scheme, host, optional port; no path, no trailing slash) (found '{origin}').");
            }
        }

        var rateLimit = $"{SecurityOptions.Section}:{nameof(SecurityOptions.RateLimit)}";
        if (options.RateLimit.PermitLimit < 1)
        {
            failures.Add($"{rateLimit}:{nameof(RateLimitOptions.PermitLimit)} must be at least 1 (found {options.RateLimit.PermitLimit}); set {rateLimit}:{nameof(RateLimitOptions.Enabled)}=false to turn limiting off.");
        }
        if (options.RateLimit.Window <= TimeSpan.Zero || options.RateLimit.Window > TimeSpan.FromDays(1))
        {
            failures.Add($"{rateLimit}:{nameof(RateLimitOptions.Window)} must be above 0 and at most one day, such as 00:00:01 (found {options.RateLimit.Window}).");
        }
        if (options.MaxJsonDepth is < 1 or > 256)
        {
            failures.Add($"{SecurityOptions.Section}:{nameof(SecurityOptions.MaxJsonDepth)} must be from 1 to 256 (found {options.MaxJsonDepth}).");
        }
        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
