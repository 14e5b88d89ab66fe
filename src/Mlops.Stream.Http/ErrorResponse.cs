using System.Text.Json.Serialization;
using Microsoft.AspNetCore.Http;

namespace Mlops.Stream.Http;

/// <summary>
/// Every error body of the inference and models endpoints: <c>{"error": message, "code": code}</c>.
/// "error" is the Open Inference Protocol v2 field; "code" is our stable addition (an
/// <c>InferenceErrorCode</c> or <c>BatchRejectionReason</c> wire code, or one of
/// <see cref="HttpErrorCodes"/>) that v2 clients ignore. Same shape as <c>InferenceCodec.EncodeError</c>.
/// </summary>
public sealed record ErrorResponse(
    [property: JsonPropertyName("error")] string Error,
    [property: JsonPropertyName("code"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? Code = null);

/// <summary>
/// Codes for errors that come from the HTTP edge or the gateway's reply kind rather than from the
/// request decoder or the batcher. A stable contract like the other wire codes: never rename one.
/// </summary>
public static class HttpErrorCodes
{
    /// <summary>The model, or the version asked for, is not in the registry (404).</summary>
    public const string ModelNotFound = "model_not_found";

    /// <summary>The model exists but no version is loaded and ready (503).</summary>
    public const string ModelNotReady = "model_not_ready";

    /// <summary>HTTP 507: the model can never load on this node (larger than Inference:ModelMemoryBudget, or pinned models fill it).</summary>
    public const string OverMemoryBudget = "over_memory_budget";

    /// <summary>No answer from the serving side within the infer timeout (504).</summary>
    public const string TimedOut = "timed_out";

    /// <summary>The request body is larger than <see cref="InferenceApiOptions.MaxRequestBodyBytes"/> (413).</summary>
    public const string BodyTooLarge = "body_too_large";

    /// <summary>The version segment of the path is not a non-negative integer (400).</summary>
    public const string InvalidVersion = "invalid_version";

    /// <summary>The HTTP request itself is malformed, e.g. a body shorter than its Content-Length (400).</summary>
    public const string BadRequest = "bad_request";

    /// <summary>No route matches the path (404 from routing; an unknown model is <see cref="ModelNotFound"/>).</summary>
    public const string NotFound = "not_found";

    /// <summary>The route exists but not for this HTTP method (405 from routing, with <c>Allow</c>).</summary>
    public const string MethodNotAllowed = "method_not_allowed";

    /// <summary>The request body arrived slower than <c>Http:Limits:MinRequestBodyDataRate</c> allows (408).</summary>
    public const string RequestTimeout = "request_timeout";

    /// <summary>The body is not <c>application/json</c> where only JSON is accepted (415).</summary>
    public const string UnsupportedMediaType = "unsupported_media_type";

    /// <summary>An unexpected failure on the server; details are in the server log (500).</summary>
    public const string Internal = "internal";

    /// <summary>The route needs an API key and none was sent as <c>Authorization: Bearer &lt;key&gt;</c> (401).</summary>
    public const string KeyRequired = "key_required";

    /// <summary>The bearer key sent matches no configured key (401).</summary>
    public const string InvalidKey = "invalid_key";

    /// <summary>The key is valid but its role may not call this route, e.g. an infer key on the admin API (403).</summary>
    public const string Forbidden = "forbidden";

    /// <summary>No admin key is configured and the node listens beyond loopback, so the admin API refuses every call (403).</summary>
    public const string AdminKeyNotConfigured = "admin_key_not_configured";

    /// <summary>The caller (key or client address) made more requests than its rate limit allows (429, with <c>Retry-After</c>).</summary>
    public const string RateLimited = "rate_limited";

    /// <summary>A model upload is larger than <c>Registry:MaxUploadBytes</c> (413); nothing of it is kept.</summary>
    public const string UploadTooLarge = "upload_too_large";

    /// <summary>The model's replica refused a promoted version (its load, checks or warm-up failed) and production is the serving version again (409).</summary>
    public const string VersionRefused = "version_refused";

    /// <summary>The model registry's backend (MLflow) cannot be reached; a change could not be made or read. Try again later.</summary>
    public const string RegistryUnavailable = "registry_unavailable";

    /// <summary>
    /// The code for an error the server or the framework raised with only a status (routing, Kestrel's
    /// body limits): one table, so the same status always carries the same code. Null for other statuses.
    /// </summary>
    public static string? ForStatus(int statusCode) => statusCode switch
    {
        StatusCodes.Status400BadRequest => BadRequest,
        StatusCodes.Status404NotFound => NotFound,
        StatusCodes.Status405MethodNotAllowed => MethodNotAllowed,
        StatusCodes.Status408RequestTimeout => RequestTimeout,
        StatusCodes.Status413PayloadTooLarge => BodyTooLarge,
        StatusCodes.Status415UnsupportedMediaType => UnsupportedMediaType,
        _ => null,
    };
}
