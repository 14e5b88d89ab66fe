using System.Net;
using System.Text.Json;

namespace Mlops.Stream.Inference.Registry.Mlflow.Internal;

/// <summary>
/// MLflow's error answers (<c>{"error_code": "RESOURCE_DOES_NOT_EXIST", "message": ...}</c>, see
/// mlflow/protos/databricks.proto's ErrorCode) as the registry's typed errors, so callers react to
/// an MLflow backend as to the folder one (404 for a missing model, 409 for a conflict...).
/// </summary>
internal static class MlflowErrors
{
    /// <summary>Whether the answer means MLflow itself is not working (as opposed to refusing this request).</summary>
    public static bool IsServerFailure(HttpStatusCode status) => (int)status >= 500 || status == HttpStatusCode.TooManyRequests;

    public static ModelRegistryException FromAnswer(string call, HttpStatusCode status, string body)
    {
        var (code, message) = Parse(body);
        var said = code is null ? $"HTTP {(int)status}{(string.IsNullOrWhiteSpace(body) ? "" : ": " + Shorten(body))}" : $"{code}: {message}";
        var error = code switch
        {
            "RESOURCE_DOES_NOT_EXIST" => ModelRegistryError.NotFound,
            "RESOURCE_ALREADY_EXISTS" => ModelRegistryError.Conflict,
            "INVALID_PARAMETER_VALUE" or "BAD_REQUEST" or "INVALID_STATE" or "ENDPOINT_NOT_FOUND" => ModelRegistryError.Invalid,
            _ when IsServerFailure(status) => ModelRegistryError.Unavailable,
            _ when status is HttpStatusCode.Unauthorized or HttpStatusCode.Forbidden => ModelRegistryError.Unavailable,
            _ when status == HttpStatusCode.NotFound => ModelRegistryError.NotFound,
            _ => ModelRegistryError.Invalid,
        };
        var hint = status is HttpStatusCode.Unauthorized or HttpStatusCode.Forbidden
            ? " (check the token: Registry:Mlflow:TokenVariable names the environment variable it is read from)"
            : "";
        return new ModelRegistryException(error, $"MLflow {call}: {said}{hint}");
    }

    public static ModelRegistryException Unreachable(Uri trackingUri, string call, Exception cause) =>
        new(ModelRegistryError.Unavailable, $"MLflow at {trackingUri} is unreachable ({call}): {cause.GetBaseException().Message}", cause);

    private static (string? Code, string? Message) Parse(string body)
    {
        if (string.IsNullOrWhiteSpace(body) || body.TrimStart()[0] != '{') return (null, null);
        try
        {
            var error = JsonSerializer.Deserialize(body, MlflowJsonContext.Default.MlflowErrorBody);
            return (error?.ErrorCode, error?.Message);
        }
        catch (JsonException)
        {
            return (null, null);
        }
    }

    private static string Shorten(string text) => text.Length <= 300 ? text : text[..300] + "...";
}
