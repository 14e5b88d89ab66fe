using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Mlops.Stream.Inference.Registry;

namespace Mlops.Stream.Http;

public static class RegistryUnavailableAnswerExtensions
{
    /// <summary>
    /// A call that needed the registry's backend while it cannot be reached (MLflow down: a
    /// promotion, a registration, a version not cached yet) gets 503 <c>registry_unavailable</c>
    /// with the reason, instead of a bare 500: the node is fine, the registry is not, and the call
    /// may be repeated later. Serving never needs the backend, so inference is not affected.
    /// </summary>
    public static IApplicationBuilder UseRegistryUnavailableAnswer(this IApplicationBuilder app) =>
        app.Use(async (context, next) =>
        {
            try
            {
                await next(context);
            }
            catch (ModelRegistryException e) when (e.Error == ModelRegistryError.Unavailable && !context.Response.HasStarted)
            {
                context.Response.Clear();
                context.Response.StatusCode = StatusCodes.Status503ServiceUnavailable;
                context.Response.Headers.RetryAfter = "5";
                await context.Response.WriteAsJsonAsync(new ErrorResponse(e.Message, HttpErrorCodes.RegistryUnavailable), context.RequestAborted);
            }
        });
}
