using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Options;

namespace Mlops.Stream.Http.Security;

/// <summary>
/// Who a bearer credential names: the configured API keys, and bearer JWTs when <c>Security:Jwt</c>
/// is on (<see cref="JwtCallerValidator"/>). Keys are kept only as SHA-256 hashes. A presented key is hashed and compared with
/// every stored hash by <see cref="CryptographicOperations.FixedTimeEquals"/> (equal-length digests,
/// no early exit), so neither the comparison nor the key's length leaks through timing.
/// </summary>
public sealed class ApiKeyStore
{
    private const string BearerPrefix = "Bearer ";

    private readonly Entry[] _entries;
    private readonly JwtCallerValidator? _jwt;

    public ApiKeyStore(IOptions<SecurityOptions> options, IConfiguration configuration)
        : this(Sources(options.Value, configuration), options.Value.Jwt.Enabled ? new JwtCallerValidator(options.Value.Jwt) : null)
    {
    }

    public ApiKeyStore(IEnumerable<KeySource> keys, JwtCallerValidator? jwt = null)
    {
        _jwt = jwt;
        _entries = keys
            .Where(k => !string.IsNullOrEmpty(k.Value))
            .Select(k => new Entry(SHA256.HashData(Encoding.UTF8.GetBytes(k.Value!)), new ApiCaller(k.Source, k.Role, false)))
            .ToArray();
        AdminKeyCount = _entries.Count(e => e.Caller.Role == ApiRole.Admin);
        InferKeyCount = _entries.Count(e => e.Caller.Role == ApiRole.Infer);
    }

    public int AdminKeyCount { get; }

    public int InferKeyCount { get; }

    /// <summary>True when JWTs are accepted.</summary>
    public bool AcceptsJwt => _jwt is not null;

    /// <summary>
    /// True when a credential of <paramref name="role"/> can exist: a key of it is configured, or JWTs are
    /// accepted; a role without any is open (see <see cref="AccessPolicy"/>).
    /// </summary>
    public bool HasKeys(ApiRole role) => _jwt is not null || (role == ApiRole.Admin ? AdminKeyCount > 0 : InferKeyCount > 0);

    /// <summary>
    /// Like <see cref="IdentifyBearer"/>, and a bearer that is no configured key but has a JWT's shape
    /// is checked as a JWT when they are accepted.
    /// </summary>
    public async ValueTask<ApiCaller> IdentifyBearerAsync(string? authorization)
    {
        var caller = IdentifyBearer(authorization);
        if (_jwt is null || !caller.PresentedInvalidKey || authorization is null) return caller;
        var token = authorization[BearerPrefix.Length..].Trim();
        return JwtCallerValidator.LooksLikeJwt(token) ? await _jwt.IdentifyAsync(token).ConfigureAwait(false) : caller;
    }

    /// <summary>
    /// The caller an <c>Authorization</c> value (HTTP header or gRPC metadata) names: anonymous without
    /// a bearer key, <see cref="ApiCaller.Invalid"/> for an empty or unknown one.
    /// </summary>
    public ApiCaller IdentifyBearer(string? authorization)
    {
        if (authorization is null || !authorization.StartsWith(BearerPrefix, StringComparison.OrdinalIgnoreCase))
        {
            return ApiCaller.Anonymous;
        }
        var key = authorization[BearerPrefix.Length..].Trim();
        return key.Length == 0 ? ApiCaller.Invalid : Identify(key);
    }

    /// <summary>The caller a presented key belongs to, or <see cref="ApiCaller.Invalid"/>. When a key is configured for both roles, admin wins.</summary>
    public ApiCaller Identify(string presentedKey)
    {
        var digest = SHA256.HashData(Encoding.UTF8.GetBytes(presentedKey));
        ApiCaller? found = null;
        foreach (var entry in _entries)
        {
            // Every entry is compared, whatever matched before, so the time taken does not say which key it was.
            if (CryptographicOperations.FixedTimeEquals(digest, entry.Hash) && (found is null || entry.Caller.Role == ApiRole.Admin))
            {
                found = entry.Caller;
            }
        }
        return found ?? ApiCaller.Invalid;
    }

    /// <summary>Every configured key with the configuration key or variable it came from (the name used in messages and logs).</summary>
    public static IEnumerable<KeySource> Sources(SecurityOptions options, IConfiguration configuration)
    {
        for (var i = 0; i < options.AdminKeys.Length; i++)
        {
            yield return new KeySource($"{SecurityOptions.Section}:{nameof(SecurityOptions.AdminKeys)}:{i}", ApiRole.Admin, options.AdminKeys[i]);
        }
        for (var i = 0; i < options.InferKeys.Length; i++)
        {
            yield return new KeySource($"{SecurityOptions.Section}:{nameof(SecurityOptions.InferKeys)}:{i}", ApiRole.Infer, options.InferKeys[i]);
        }
        // Environment variables reach configuration under their own name (WebApplication adds them
        // without a prefix); the process environment is read too for hosts that do not.
        if (FromEnvironment(configuration, SecurityOptions.AdminKeyVariable) is { } admin)
        {
            yield return new KeySource(SecurityOptions.AdminKeyVariable, ApiRole.Admin, admin);
        }
        if (FromEnvironment(configuration, SecurityOptions.InferKeyVariable) is { } infer)
        {
            yield return new KeySource(SecurityOptions.InferKeyVariable, ApiRole.Infer, infer);
        }
    }

    private static string? FromEnvironment(IConfiguration configuration, string variable)
    {
        var value = configuration[variable] ?? Environment.GetEnvironmentVariable(variable);
        return string.IsNullOrEmpty(value) ? null : value;
    }

    private sealed record Entry(byte[] Hash, ApiCaller Caller);
}

/// <summary>One configured key: where it came from (never the key itself in messages), its role and value.</summary>
public sealed record KeySource(string Source, ApiRole Role, string? Value)
{
    // The value stays out of ToString so a key cannot reach a log by accident.
    public override string ToString() => $"{Source} ({Role})";
}
