using Microsoft.AspNetCore.Http;

namespace Mlops.Stream.Http.Security;

/// <summary>Which role a route needs. Decided by path prefix in one place (<see cref="AccessPolicy.For"/>).</summary>
public enum RouteAccess
{
    /// <summary>No key ever: health probes, the metrics scraper and the API's documentation.</summary>
    Open,

    /// <summary><see cref="ApiRole.Infer"/> or <see cref="ApiRole.Admin"/>.</summary>
    Infer,

    /// <summary><see cref="ApiRole.Admin"/> only.</summary>
    Admin,
}

/// <summary>The outcome of <see cref="AccessPolicy.Decide"/>: allowed, or the status, code and message to answer with.</summary>
public sealed record AccessDecision(bool Allowed, int StatusCode, string? Code, string? Message)
{
    public static AccessDecision Allow { get; } = new(true, StatusCodes.Status200OK, null, null);

    public static AccessDecision Deny(int statusCode, string code, string message) => new(false, statusCode, code, message);
}

/// <summary>
/// The access rules of the HTTP edge, as pure functions so they are tested without a server.
/// <list type="bullet">
/// <item>Open: <c>/healthz/*</c>, <c>/v2/health/*</c>, <c>/metrics</c>, and the API's documentation
/// (<c>/openapi/*</c>, <c>/docs</c>). Kubernetes probes and Prometheus scrapers carry no credentials,
/// and these routes reveal nothing a caller could misuse (the documentation describes the API's
/// shape, which is public anyway); an Authorization header there is ignored.</item>
/// <item>Infer: everything else under <c>/v2</c> (infer, model metadata and readiness, server metadata).</item>
/// <item>Admin: everything else, <c>/api/v1/*</c> included, so a route added later is closed until
/// someone decides otherwise here.</item>
/// </list>
/// A bearer key that matches no configured key is 401 wherever a key counts, even where the role is
/// open, so a misconfigured client learns at once. A role with no key configured is open on a node
/// bound only to loopback (the first try on a laptop); bound to any other address, admin calls are
/// refused with 403 and inference stays open (with a warning at start), as Triton and KServe do.
/// </summary>
public static class AccessPolicy
{
    public static RouteAccess For(PathString path)
    {
        if (path.StartsWithSegments("/healthz") || path.StartsWithSegments("/v2/health") || path.StartsWithSegments("/metrics")
            || path.StartsWithSegments("/openapi") || path.StartsWithSegments(ApiDocs.PagePath))
        {
            return RouteAccess.Open;
        }
        return path.StartsWithSegments("/v2") ? RouteAccess.Infer : RouteAccess.Admin;
    }

    /// <param name="access">What the route needs.</param>
    /// <param name="caller">Who calls.</param>
    /// <param name="keys">Which roles have keys configured.</param>
    /// <param name="loopbackOnly">True when every address the server listens on is a loopback address.</param>
    public static AccessDecision Decide(RouteAccess access, ApiCaller caller, ApiKeyStore keys, bool loopbackOnly)
    {
        if (access == RouteAccess.Open)
        {
            return AccessDecision.Allow;
        }
        if (caller.PresentedInvalidKey)
        {
            return AccessDecision.Deny(StatusCodes.Status401Unauthorized, HttpErrorCodes.InvalidKey, caller.Name == JwtCallerValidator.InvalidTokenName
                ? "the bearer token is not valid (its signature, issuer, audience or lifetime)"
                : "the API key is not valid");
        }

        var role = access == RouteAccess.Admin ? ApiRole.Admin : ApiRole.Infer;
        if (caller.Has(role))
        {
            return AccessDecision.Allow;
        }

        if (keys.HasKeys(role))
        {
            if (!caller.Authenticated)
                return AccessDecision.Deny(StatusCodes.Status401Unauthorized, HttpErrorCodes.KeyRequired,
                    $"this route needs an API key with the {RoleName(role)} role: send 'Authorization: Bearer <key>'");
            return AccessDecision.Deny(StatusCodes.Status403Forbidden, HttpErrorCodes.Forbidden, caller.Role is { } held
                ? $"the {(caller.Name.StartsWith(JwtCallerValidator.CallerPrefix, StringComparison.Ordinal) ? "token" : "API key")} has the {RoleName(held)} role; this route needs the {RoleName(role)} role"
                : $"the token carries neither the admin nor the infer role; this route needs the {RoleName(role)} role");
        }

        // No key configured for this role.
        if (role == ApiRole.Infer || loopbackOnly)
        {
            return AccessDecision.Allow;
        }
        return AccessDecision.Deny(StatusCodes.Status403Forbidden, HttpErrorCodes.AdminKeyNotConfigured,
            $"the admin API is disabled: no admin key is configured ({SecurityOptions.Section}:{nameof(SecurityOptions.AdminKeys)} or " +
            $"{SecurityOptions.AdminKeyVariable}) and the node listens on a non-loopback address; configure a key, or bind to 127.0.0.1 only");
    }

    public static string RoleName(ApiRole role) => role == ApiRole.Admin ? "admin" : "infer";
}
