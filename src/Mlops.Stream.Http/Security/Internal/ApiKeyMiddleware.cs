using System.Security.Claims;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Microsoft.Net.Http.Headers;

namespace Mlops.Stream.Http.Security.Internal;

/// <summary>
/// Reads the bearer key and records who calls (<see cref="ApiCaller"/> feature and <see cref="HttpContext.User"/>).
/// Rejects nothing: it runs before the rate limiter, which partitions by caller, and
/// <see cref="AccessMiddleware"/> decides after it.
/// </summary>
internal sealed class IdentifyCallerMiddleware(RequestDelegate next, ApiKeyStore keys)
{
    public async Task InvokeAsync(HttpContext context)
    {
        var caller = AccessPolicy.For(context.Request.Path) != RouteAccess.Open
            ? await keys.IdentifyBearerAsync(context.Request.Headers.Authorization.ToString())
            : ApiCaller.Anonymous;

        context.Features.Set(caller);
        if (caller.Role is { } role)
        {
            // For authorization-aware code downstream (the admin API's audit trail): a name, never the key.
            context.User = new ClaimsPrincipal(new ClaimsIdentity(
                [new Claim(ClaimTypes.Name, caller.Name), new Claim(ClaimTypes.Role, AccessPolicy.RoleName(role))],
                authenticationType: caller.Name.StartsWith(JwtCallerValidator.CallerPrefix, StringComparison.Ordinal) ? "Jwt" : "ApiKey"));
        }
        await next(context);
    }
}

/// <summary>Applies <see cref="AccessPolicy.Decide"/>; a denial is an <see cref="ErrorResponse"/> (401 with <c>WWW-Authenticate: Bearer</c>, or 403).</summary>
internal sealed class AccessMiddleware(RequestDelegate next, ApiKeyStore keys, ListeningAddresses listening, ILogger<AccessMiddleware> logger)
{
    public Task InvokeAsync(HttpContext context)
    {
        var access = AccessPolicy.For(context.Request.Path);
        if (access == RouteAccess.Open)
        {
            return next(context);
        }

        var caller = context.GetApiCaller();
        var decision = AccessPolicy.Decide(access, caller, keys, listening.LoopbackOnly);
        if (decision.Allowed)
        {
            return next(context);
        }

        logger.LogDebug("Refused {Method} {Path} for caller {Caller}: {Status} {Code}",
            context.Request.Method, context.Request.Path, caller.Name, decision.StatusCode, decision.Code);
        context.Response.StatusCode = decision.StatusCode;
        if (decision.StatusCode == StatusCodes.Status401Unauthorized)
        {
            // RFC 6750: the scheme to use, and invalid_token when the key sent was wrong.
            context.Response.Headers[HeaderNames.WWWAuthenticate] = caller.PresentedInvalidKey
                ? "Bearer realm=\"mlops-stream\", error=\"invalid_token\""
                : "Bearer realm=\"mlops-stream\"";
        }
        return context.Response.WriteAsJsonAsync(new ErrorResponse(decision.Message!, decision.Code), context.RequestAborted);
    }
}

/// <summary>
/// Turns a <see cref="BadHttpRequestException"/> (a body ASP.NET Core could not bind: malformed or
/// too deep JSON, missing parameters) into the usual <see cref="ErrorResponse"/> instead of an empty 400.
/// </summary>
internal sealed class BadRequestMiddleware(RequestDelegate next)
{
    public async Task InvokeAsync(HttpContext context)
    {
        try
        {
            await next(context);
        }
        catch (BadHttpRequestException e) when (!context.Response.HasStarted)
        {
            context.Response.Clear();
            context.Response.StatusCode = e.StatusCode;
            // The inner JsonException says what was wrong (depth, position) and never holds secrets.
            var message = e.InnerException is System.Text.Json.JsonException json ? $"{e.Message} {json.Message}" : e.Message;
            var code = HttpErrorCodes.ForStatus(e.StatusCode) ?? HttpErrorCodes.BadRequest;
            await context.Response.WriteAsJsonAsync(new ErrorResponse(message, code), context.RequestAborted);
        }
    }
}
