using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.WebUtilities;

namespace Mlops.Stream.Http;

public static class ErrorBodiesExtensions
{
    /// <summary>
    /// Gives the errors that leave the framework with a status and no body (routing's 404 and 405) the
    /// usual <see cref="ErrorResponse"/> body, so a client parses every error the same way. Answers that
    /// already carry a body are left alone. Call it before the other middleware and the endpoints.
    /// Kestrel's own refusals of malformed requests (a bad request line, <c>%00</c> in the path) are
    /// written before any middleware runs and stay without a body.
    /// </summary>
    public static IApplicationBuilder UseMlopsErrorBodies(this IApplicationBuilder app) =>
        app.UseStatusCodePages(status => WriteAsync(status.HttpContext));

    private static Task WriteAsync(HttpContext context)
    {
        var statusCode = context.Response.StatusCode;
        // Other statuses (a client that went away, say) keep their empty answer.
        if (HttpErrorCodes.ForStatus(statusCode) is not { } code || context.RequestAborted.IsCancellationRequested)
        {
            return Task.CompletedTask;
        }
        return context.Response.WriteAsJsonAsync(new ErrorResponse(Message(context.Request, statusCode), code), context.RequestAborted);
    }

    private static string Message(HttpRequest request, int statusCode) => statusCode switch
    {
        StatusCodes.Status404NotFound => $"no route matches {request.Path}",
        StatusCodes.Status405MethodNotAllowed => $"{request.Method} is not allowed on {request.Path}",
        _ => ReasonPhrases.GetReasonPhrase(statusCode).ToLowerInvariant(),
    };
}
