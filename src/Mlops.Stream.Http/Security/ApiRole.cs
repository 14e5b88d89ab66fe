namespace Mlops.Stream.Http.Security;

/// <summary>What an API key may do. An admin key may do everything an infer key may.</summary>
public enum ApiRole
{
    /// <summary>Inference and model metadata: routes under <c>/v2/</c>.</summary>
    Infer,

    /// <summary>The admin API: routes under <c>/api/v1/</c>, and everything <see cref="Infer"/> may.</summary>
    Admin,
}

/// <summary>Who is calling, as far as the HTTP edge knows; read it with <see cref="ApiCallerExtensions.GetApiCaller"/>.</summary>
/// <param name="Name">
/// A name for logs and the audit trail that never reveals the key: the key's configuration source,
/// e.g. <c>Security:AdminKeys:0</c> or <c>MLOPS_ADMIN_KEY</c>; <c>anonymous</c> without a key.
/// </param>
/// <param name="Role">The key's role; null without a key or with a key no role has.</param>
/// <param name="PresentedInvalidKey">True when a bearer key was sent but matches no configured key.</param>
public sealed record ApiCaller(string Name, ApiRole? Role, bool PresentedInvalidKey)
{
    public static ApiCaller Anonymous { get; } = new("anonymous", null, false);

    public static ApiCaller Invalid { get; } = new("invalid-key", null, true);

    public bool Has(ApiRole role) => Role is { } held && (held == role || held == ApiRole.Admin);

    /// <summary>A valid credential named this caller (a key always has a role; a token may have none).</summary>
    public bool Authenticated => Role is not null || Name.StartsWith(JwtCallerValidator.CallerPrefix, StringComparison.Ordinal);
}

public static class ApiCallerExtensions
{
    /// <summary>The caller the security middleware identified; anonymous when it did not run.</summary>
    public static ApiCaller GetApiCaller(this Microsoft.AspNetCore.Http.HttpContext context) =>
        context.Features.Get<ApiCaller>() ?? ApiCaller.Anonymous;
}
