using System.Text.Json;
using System.Text.Json.Serialization;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Routing;
using Mlops.Stream.Inference.Registry;
using Mlops.Stream.Inference.Wire;
using Mlops.Stream.Inference.Lifecycle;

namespace Mlops.Stream.Http;

/// <summary>A change's resulting state: <c>{"model","changed","version","aliases":{...}}</c>.</summary>
public sealed record AdminChangeResponse(
    [property: JsonPropertyName("model")] string Model,
    [property: JsonPropertyName("changed")] bool Changed,
    [property: JsonPropertyName("version")] int? Version,
    [property: JsonPropertyName("aliases")] IReadOnlyDictionary<string, AliasResponse> Aliases);

public sealed record AliasResponse(
    [property: JsonPropertyName("version")] int Version,
    [property: JsonPropertyName("weight"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] double? Weight);

/// <summary><c>force</c>: the operator accepts that the version's inputs or outputs differ from the serving version's.</summary>
public sealed record PromoteRequest([property: JsonPropertyName("version")] int Version, [property: JsonPropertyName("force")] bool Force = false);

public sealed record CanaryRequest([property: JsonPropertyName("version")] int Version, [property: JsonPropertyName("weight")] double Weight);

/// <summary>
/// The lifecycle admin API under <c>/api/v1</c>: register a version (upload), promote, canary,
/// rollback, deploy, undeploy, and the audit log. Every change is idempotent, answers with the
/// resulting aliases, and is audited with the caller's identity.
/// </summary>
public static class AdminApi
{
    /// <summary>Largest ONNX upload accepted by the register route.</summary>
    public const long MaxModelBytes = 512L * 1024 * 1024;

    public static IEndpointRouteBuilder MapAdminApi(this IEndpointRouteBuilder endpoints)
    {
        var models = endpoints.MapGroup("/api/v1/models/{model}").WithTags("Admin");
        models.MapPost("/versions", RegisterAsync);
        models.MapPost("/promote", (string model, PromoteRequest body, ModelAdministration admin, HttpContext http, CancellationToken ct) =>
            Answer(admin.PromoteAsync(model, body.Version, Actor(http), ct, body.Force)));
        models.MapPost("/canary", (string model, CanaryRequest body, ModelAdministration admin, HttpContext http, CancellationToken ct) =>
            Answer(admin.SetCanaryAsync(model, body.Version, body.Weight, Actor(http), ct)));
        models.MapPost("/rollback", (string model, ModelAdministration admin, HttpContext http, CancellationToken ct) =>
            Answer(admin.RollbackAsync(model, Actor(http), ct)));
        models.MapPost("/deploy", (string model, ModelAdministration admin, HttpContext http, CancellationToken ct) =>
            Answer(admin.DeployAsync(model, Actor(http), ct)));
        models.MapPost("/undeploy", (string model, ModelAdministration admin, HttpContext http, CancellationToken ct) =>
            Answer(admin.UndeployAsync(model, Actor(http), ct)));
        endpoints.MapGet("/api/v1/audit", (ModelAdministration admin, int? limit) =>
            TypedResults.Ok(admin.Audit(Math.Clamp(limit ?? 100, 1, 1000)))).WithTags("Admin");
        return endpoints;
    }

    /// <summary>
    /// <c>POST /api/v1/models/{model}/versions</c>: the ONNX file as the body
    /// (<c>application/octet-stream</c>), or <c>multipart/form-data</c> with a <c>file</c> part and an
    /// optional <c>manifest</c> part (JSON: <c>feature_names</c>, <c>labels</c>, <c>description</c>,
    /// <c>batching</c> {<c>max_batch_size</c>, <c>max_queue_delay_ms</c>}, <c>sample_request</c> as a v2
    /// request). Without a manifest, inputs and outputs are read from the model itself.
    /// </summary>
    private static async Task<IResult> RegisterAsync(string model, HttpContext http, ModelAdministration admin, CancellationToken ct)
    {
        if (http.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } limit) limit.MaxRequestBodySize = MaxModelBytes;
        byte[] onnx;
        ModelRegistration? declared = null;
        try
        {
            if (http.Request.HasFormContentType)
            {
                var form = await http.Request.ReadFormAsync(ct);
                if (form.Files.GetFile("file") is not { } file)
                    return Error(StatusCodes.Status400BadRequest, "multipart upload needs a 'file' part with the ONNX model", "bad_request");
                onnx = await ReadAll(file.OpenReadStream(), ct);
                if (form.Files.GetFile("manifest") is { } manifestFile)
                    declared = ParseManifest(model, await ReadAll(manifestFile.OpenReadStream(), ct));
                else if (form.TryGetValue("manifest", out var manifestText) && !string.IsNullOrWhiteSpace(manifestText))
                    declared = ParseManifest(model, System.Text.Encoding.UTF8.GetBytes(manifestText.ToString()));
            }
            else
            {
                onnx = await ReadAll(http.Request.Body, ct);
            }
        }
        catch (JsonException e)
        {
            return Error(StatusCodes.Status400BadRequest, $"manifest is not valid: {e.Message}", "invalid_manifest");
        }
        catch (InferenceRequestException e)
        {
            return Error(StatusCodes.Status400BadRequest, $"manifest sample_request is not valid: {e.Message}", "invalid_manifest");
        }
        if (onnx.Length == 0) return Error(StatusCodes.Status400BadRequest, "the upload is empty; send the ONNX model", "bad_request");
        return ToResult(await admin.RegisterAsync(model, onnx, declared, Actor(http), ct), StatusCodes.Status201Created);
    }

    private static ModelRegistration ParseManifest(string model, byte[] json)
    {
        using var document = JsonDocument.Parse(json);
        var root = document.RootElement;
        var registration = new ModelRegistration(model, ReadOnlyMemory<byte>.Empty);
        if (root.TryGetProperty("feature_names", out var features))
            registration = registration with { FeatureNames = [.. features.EnumerateArray().Select(f => f.GetString()!)] };
        if (root.TryGetProperty("labels", out var labels))
            registration = registration with { Labels = [.. labels.EnumerateArray().Select(l => l.GetString()!)] };
        if (root.TryGetProperty("description", out var description))
            registration = registration with { Description = description.GetString() };
        if (root.TryGetProperty("batching", out var batching))
            registration = registration with
            {
                Batching = new BatchingHints(
                    batching.TryGetProperty("max_batch_size", out var size) ? size.GetInt32() : BatchingHints.Default.MaxBatchSize,
                    batching.TryGetProperty("max_queue_delay_ms", out var delay) ? delay.GetInt32() : BatchingHints.Default.MaxQueueDelayMs),
            };
        if (root.TryGetProperty("sample_request", out var sample))
            registration = registration with { SampleRequest = InferenceCodec.DecodeRequest(System.Text.Encoding.UTF8.GetBytes(sample.GetRawText())) };
        return registration;
    }

    private static async Task<byte[]> ReadAll(System.IO.Stream stream, CancellationToken ct)
    {
        using var buffer = new MemoryStream();
        await stream.CopyToAsync(buffer, ct);
        return buffer.ToArray();
    }

    /// <summary>Who made the change: the authenticated caller's name when the edge knows it. Shared by every audited admin route.</summary>
    internal static string Actor(HttpContext http) => http.User.Identity?.Name is { Length: > 0 } name ? name : "anonymous";

    private static async Task<IResult> Answer(Task<AdminResult> change) => ToResult(await change, StatusCodes.Status200OK);

    private static IResult ToResult(AdminResult result, int successStatus) => result switch
    {
        AdminResult.Done done => TypedResults.Json(new AdminChangeResponse(done.Model, done.Changed, done.Version,
            done.Aliases.Entries.ToDictionary(e => e.Key, e => new AliasResponse(e.Value.Version, e.Value.Weight))), statusCode: successStatus),
        AdminResult.NotFound n => Error(StatusCodes.Status404NotFound, n.Message, HttpErrorCodes.ModelNotFound),
        AdminResult.Conflict c => Error(StatusCodes.Status409Conflict, c.Message, "conflict"),
        AdminResult.Invalid i => Error(StatusCodes.Status400BadRequest, i.Message, "invalid_model"),
        _ => Error(StatusCodes.Status500InternalServerError, "unexpected result", HttpErrorCodes.Internal),
    };

    private static IResult Error(int status, string message, string code) =>
        TypedResults.Json(new ErrorResponse(message, code), statusCode: status);
}
