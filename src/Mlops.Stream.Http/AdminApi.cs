using System.Text.Json;
using System.Text.Json.Serialization;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Mlops.Stream.Http.Internal;
using Mlops.Stream.Inference.Gateway;
using Mlops.Stream.Inference.Lifecycle;
using Mlops.Stream.Inference.Batching;
using Mlops.Stream.Inference.Registry;
using Mlops.Stream.Inference.Wire;

namespace Mlops.Stream.Http;

/// <summary>A change's resulting state: <c>{"model","changed","version","aliases":{...}}</c>.</summary>
public sealed record AdminChangeResponse(
    [property: JsonPropertyName("model")] string Model,
    [property: JsonPropertyName("changed")] bool Changed,
    [property: JsonPropertyName("version")] int? Version,
    [property: JsonPropertyName("aliases")] IReadOnlyDictionary<string, AliasResponse> Aliases)
{
    /// <summary>A promotion's outcome once its alias moved: <c>serving</c> (200) or <c>pending</c> (202); absent on other changes.</summary>
    [JsonPropertyName("outcome"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? Outcome { get; init; }

    /// <summary>What a pending promotion is waiting for.</summary>
    [JsonPropertyName("detail"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? Detail { get; init; }
}

public sealed record AliasResponse(
    [property: JsonPropertyName("version")] int Version,
    [property: JsonPropertyName("weight"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] double? Weight);

/// <summary><c>force</c>: the operator accepts that the version's inputs or outputs differ from the serving version's.</summary>
public sealed record PromoteRequest([property: JsonPropertyName("version")] int Version, [property: JsonPropertyName("force")] bool Force = false);

/// <summary>
/// <c>{"replicas": 3}</c> runs three replicas of the model; <c>{"min": 1, "max": 3}</c> lets the
/// autoscaler choose between them (from <c>replicas</c> when given); <c>{}</c> or
/// <c>{"replicas": null}</c> goes back to one per node.
/// </summary>
public sealed record ScaleRequest(
    [property: JsonPropertyName("replicas")] int? Replicas,
    [property: JsonPropertyName("min")] int? Min = null,
    [property: JsonPropertyName("max")] int? Max = null);

/// <summary>
/// A model's scale: <c>mode</c> <c>fixed</c> (<c>replicas</c> set by an operator), <c>autoscale</c>
/// (<c>replicas</c> chosen by the autoscaler between <c>min</c> and <c>max</c>, with its
/// <c>last_decision</c>), or <c>per_node</c> (one replica per node that is up; <c>replicas</c> null).
/// <c>changed</c> on a change only.
/// </summary>
public sealed record ScaleResponse(
    [property: JsonPropertyName("model")] string Model,
    [property: JsonPropertyName("mode")] string Mode,
    [property: JsonPropertyName("replicas")] int? Replicas)
{
    [JsonPropertyName("changed"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public bool? Changed { get; init; }

    [JsonPropertyName("min"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public int? Min { get; init; }

    [JsonPropertyName("max"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public int? Max { get; init; }

    [JsonPropertyName("last_decision"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public ScaleDecisionResponse? LastDecision { get; init; }

    public static ScaleResponse Of(string model, ModelScale? scale) =>
        new(model, scale switch { null => "per_node", { Autoscaled: true } => "autoscale", _ => "fixed" }, scale?.Replicas)
        {
            Min = scale?.Min,
            Max = scale?.Max,
            LastDecision = scale?.LastDecision is { } d ? new ScaleDecisionResponse(d.At, d.From, d.To, d.Reason) : null,
        };
}

public sealed record ScaleDecisionResponse(
    [property: JsonPropertyName("at")] DateTimeOffset At,
    [property: JsonPropertyName("from")] int From,
    [property: JsonPropertyName("to")] int To,
    [property: JsonPropertyName("reason")] string Reason);

public sealed record CanaryRequest([property: JsonPropertyName("version")] int Version, [property: JsonPropertyName("weight")] double Weight);

/// <summary>
/// The lifecycle admin API under <c>/api/v1</c>: register a version (upload), promote, canary,
/// rollback, deploy, undeploy, and the audit log. Every change is idempotent, answers with the
/// resulting aliases, and is audited with the caller's identity.
/// </summary>
public static class AdminApi
{
    /// <summary>The manifest part of an upload is JSON read into memory, never model weights: this is plenty.</summary>
    private const long MaxManifestBytes = 16L * 1024 * 1024;

    /// <summary>Room for multipart boundaries and part headers around the model and the manifest.</summary>
    private const long MultipartOverheadBytes = 64 * 1024;

    private const int DefaultPromotionWaitSeconds = 30;
    private const int MaxPromotionWaitSeconds = 300;

    public static IEndpointRouteBuilder MapAdminApi(this IEndpointRouteBuilder endpoints)
    {
        var models = endpoints.MapGroup("/api/v1/models/{model}").WithTags("Admin");
        models.MapPost("/versions", RegisterAsync)
            .WithSummary("Register a new version: the ONNX file as the body, or multipart with 'file', an optional JSON 'manifest' and an optional CSV 'reference' sample")
            .DocumentsBody<System.IO.Stream>("application/octet-stream", "multipart/form-data")
            .Produces<AdminChangeResponse>(StatusCodes.Status201Created)
            .Errors(StatusCodes.Status400BadRequest, StatusCodes.Status409Conflict, StatusCodes.Status413PayloadTooLarge, StatusCodes.Status503ServiceUnavailable);
        models.MapPost("/promote", PromoteAsync)
            .WithSummary("Move production to a version and wait (wait_seconds) until the replicas serve it: 200 serving, 202 still pending")
            .Changes().Produces<AdminChangeResponse>(StatusCodes.Status202Accepted).Errors(StatusCodes.Status500InternalServerError);
        models.MapPost("/canary", (string model, CanaryRequest body, ModelAdministration admin, HttpContext http, CancellationToken ct) =>
            Answer(admin.SetCanaryAsync(model, body.Version, body.Weight, Actor(http), ct)))
            .WithSummary("Send a share of the traffic (weight 0 to 1, by request id) to a canary version; weight 0 ends it").Changes();
        models.MapPost("/rollback", (string model, ModelAdministration admin, HttpContext http, CancellationToken ct) =>
            Answer(admin.RollbackAsync(model, Actor(http), ct)))
            .WithSummary("Production back to the version before it (and any canary ended)").Changes();
        models.MapPost("/deploy", (string model, ModelAdministration admin, HttpContext http, CancellationToken ct) =>
            Answer(admin.DeployAsync(model, Actor(http), ct)))
            .WithSummary("Serve the model again after an undeploy").Changes();
        models.MapPost("/undeploy", (string model, ModelAdministration admin, HttpContext http, CancellationToken ct) =>
            Answer(admin.UndeployAsync(model, Actor(http), ct)))
            .WithSummary("Stop serving the model; its versions stay in the registry").Changes();
        models.MapPost("/pin", (string model, ModelAdministration admin, HttpContext http, CancellationToken ct) =>
            Answer(admin.PinAsync(model, pinned: true, Actor(http), ct)))
            .WithSummary("Pin the model: no node's memory budget ever unloads it (Inference:ModelMemoryBudget)").Changes();
        models.MapPost("/unpin", (string model, ModelAdministration admin, HttpContext http, CancellationToken ct) =>
            Answer(admin.PinAsync(model, pinned: false, Actor(http), ct)))
            .WithSummary("Unpin the model: when idle it may be unloaded to make room for another").Changes();
        models.MapPost("/scale", (string model, ScaleRequest body, ModelAdministration admin, HttpContext http, CancellationToken ct) =>
            Answer(admin.ScaleAsync(model, body.Replicas, body.Min, body.Max, Actor(http), ct)))
            .WithSummary("Set the model's replicas: a fixed number, a min/max range for the autoscaler, or {} for one per node")
            .Produces<ScaleResponse>().Errors(ChangeErrors);
        models.MapGet("/scale", GetScaleAsync).WithSummary("How many replicas the cluster runs for the model, and how that is decided")
            .Produces<ScaleResponse>().Errors(StatusCodes.Status400BadRequest, StatusCodes.Status404NotFound, StatusCodes.Status503ServiceUnavailable);
        endpoints.MapGet("/api/v1/audit", AuditAsync).WithTags("Admin")
            .WithSummary("The cluster's recent admin changes, newest first (limit, at most 1000)");
        return endpoints;
    }

    /// <summary>What a change answers besides its result: 400 invalid, 404 unknown model, 409 refused, 503 registry unreachable.</summary>
    private static readonly int[] ChangeErrors =
        [StatusCodes.Status400BadRequest, StatusCodes.Status404NotFound, StatusCodes.Status409Conflict, StatusCodes.Status503ServiceUnavailable];

    private static RouteHandlerBuilder Changes(this RouteHandlerBuilder route) =>
        route.Produces<AdminChangeResponse>().Errors(ChangeErrors);

    /// <summary>
    /// <c>GET /api/v1/audit?limit=100</c>: the cluster's recent admin changes, newest first: the
    /// audit topic (every node writes it) joined with this node's own memory, which also holds what
    /// could not be written to Kafka. Header <c>Mlops-Audit-Source</c> says <c>cluster</c>, or
    /// <c>node</c> when the topic could not be read and only this node's changes are shown.
    /// </summary>
    private static async Task<Ok<IReadOnlyList<AuditEvent>>> AuditAsync(ModelAdministration admin, HttpContext http, int? limit, CancellationToken ct)
    {
        var count = Math.Clamp(limit ?? 100, 1, 1000);
        var own = admin.Audit(count);
        var cluster = http.RequestServices.GetService<IAuditHistory>() is { } history ? await history.RecentAsync(count, ct) : null;
        http.Response.Headers["Mlops-Audit-Source"] = cluster is null ? "node" : "cluster";
        IReadOnlyList<AuditEvent> events = cluster is null
            ? own
            : [.. cluster.Concat(own).DistinctBy(e => e.Id).OrderByDescending(e => e.Timestamp).Take(count)];
        return TypedResults.Ok(events);
    }

    /// <summary><c>GET /api/v1/models/{model}/scale</c>: how many replicas the cluster runs for the model.</summary>
    private static async Task<IResult> GetScaleAsync(string model, IModelRegistry registry, CancellationToken ct)
    {
        if (ModelName.ExistingProblem(model) is { } badName)
            return Error(StatusCodes.Status400BadRequest, badName, AdminErrorCodes.InvalidModelName);
        if ((await registry.ListVersionsAsync(model, ct)).Count == 0)
            return Error(StatusCodes.Status404NotFound, $"Model '{model}' is not in the registry.", HttpErrorCodes.ModelNotFound);
        return TypedResults.Json(ScaleResponse.Of(model, await registry.GetScaleAsync(model, ct)));
    }

    /// <summary>
    /// <c>POST /api/v1/models/{model}/promote?wait_seconds=30</c>: moves the production alias (refused
    /// with 409 before it moves when the version fails its checks; see <see cref="ModelAdministration.PromoteAsync"/>),
    /// then waits up to <c>wait_seconds</c> (0 to 300) for the replica: 200 once it serves the version,
    /// 409 <c>version_refused</c> with the reason when it refused it (production is then the serving
    /// version again), 202 when it does not serve yet.
    /// </summary>
    private static async Task<IResult> PromoteAsync(string model, PromoteRequest body, [FromQuery(Name = "wait_seconds")] int? waitSeconds,
        ModelAdministration admin, IInferenceGateway gateway, HttpContext http, CancellationToken ct)
    {
        var result = await admin.PromoteAsync(model, body.Version, Actor(http), ct, body.Force);
        if (result is not AdminResult.Done done) return ToResult(result, StatusCodes.Status200OK);
        var wait = TimeSpan.FromSeconds(Math.Clamp(waitSeconds ?? DefaultPromotionWaitSeconds, 0, MaxPromotionWaitSeconds));
        return await PromotionWatch.WaitAsync(gateway, model, body.Version, wait, ct) switch
        {
            PromotionOutcome.Serving => Change(done, StatusCodes.Status200OK, "serving"),
            PromotionOutcome.Pending pending => Change(done, StatusCodes.Status202Accepted, "pending", pending.Detail),
            PromotionOutcome.Refused refused => Error(StatusCodes.Status409Conflict, refused.Reason, HttpErrorCodes.VersionRefused),
            PromotionOutcome.Superseded superseded => Error(StatusCodes.Status409Conflict, superseded.Message, AdminErrorCodes.Conflict),
            _ => Error(StatusCodes.Status500InternalServerError, "unexpected promotion outcome", HttpErrorCodes.Internal),
        };
    }

    /// <summary>
    /// <c>POST /api/v1/models/{model}/versions</c>: the ONNX file as the body
    /// (<c>application/octet-stream</c>), or <c>multipart/form-data</c> with a <c>file</c> part and an
    /// optional <c>manifest</c> part (JSON: <c>feature_names</c>, <c>labels</c>, <c>description</c>,
    /// <c>batching</c> {<c>max_batch_size</c>, <c>max_queue_delay_ms</c>}, <c>sample_request</c> as a v2
    /// request) and an optional <c>reference</c> part (CSV, feature names as header, at most
    /// <see cref="ReferenceSample.MaxRows"/> rows: the version's reference sample, from which its
    /// reference profile is computed; a bad one is a 400 <c>invalid_reference</c> and nothing is
    /// registered). Without a manifest, inputs and outputs are read from the model itself. The model
    /// streams into a temporary file of the registry and is checked there; past
    /// <see cref="ModelAdministration.MaxUploadBytes"/> the answer is 413 and the file is deleted.
    /// </summary>
    private static async Task<IResult> RegisterAsync(string model, HttpContext http, ModelAdministration admin, CancellationToken ct)
    {
        var actor = Actor(http);
        // A name that may not be registered is refused before a byte of the model moves.
        if (await admin.CheckRegistrationAsync(model, actor, ct) is { } refused) return ToResult(refused, StatusCodes.Status201Created);
        var request = http.Request;
        var multipart = request.HasFormContentType;
        var bodyLimit = admin.MaxUploadBytes + (multipart ? MaxManifestBytes + ReferenceSample.MaxBytes + MultipartOverheadBytes : 0);
        if (request.ContentLength > bodyLimit) return UploadTooLarge(admin);
        // Kestrel's own cap (30 MB by default) would refuse most models: it becomes the whole body's
        // bound, and the registry counts the model's own bytes exactly.
        if (http.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } size) size.MaxRequestBodySize = bodyLimit;
        try
        {
            var (upload, manifest, reference) = multipart
                ? await MultipartModelUpload.ReadAsync(request, body => admin.ReceiveUploadAsync(body, ct), MaxManifestBytes, ct)
                : (await admin.ReceiveUploadAsync(request.Body, ct), null, null);
            using (upload)
            {
                if (upload is null)
                    return Error(StatusCodes.Status400BadRequest, "multipart upload needs a 'file' part with the ONNX model", HttpErrorCodes.BadRequest);
                if (upload.Length == 0) return Error(StatusCodes.Status400BadRequest, "the upload is empty; send the ONNX model", HttpErrorCodes.BadRequest);
                var declared = manifest is null ? null : ParseManifest(model, manifest);
                // Read before anything is registered: a bad sample refuses the whole registration.
                if (reference is not null)
                    declared = (declared ?? new ModelRegistration(model, ReadOnlyMemory<byte>.Empty)) with { ReferenceSample = ReferenceSample.ParseCsv(reference) };
                return ToResult(await admin.RegisterAsync(model, upload, declared, actor, ct), StatusCodes.Status201Created);
            }
        }
        catch (ModelRegistryException e) when (e.Error == ModelRegistryError.TooLarge)
        {
            return UploadTooLarge(admin);
        }
        catch (BadHttpRequestException e) when (e.StatusCode == StatusCodes.Status413PayloadTooLarge)
        {
            return UploadTooLarge(admin);
        }
        catch (JsonException e)
        {
            return Error(StatusCodes.Status400BadRequest, $"manifest is not valid: {e.Message}", "invalid_manifest");
        }
        catch (InferenceRequestException e)
        {
            return Error(StatusCodes.Status400BadRequest, $"manifest sample_request is not valid: {e.Message}", "invalid_manifest");
        }
        catch (ReferenceSampleException e)
        {
            return Error(StatusCodes.Status400BadRequest, $"reference sample is not valid: {e.Message}", AdminErrorCodes.InvalidReference);
        }
    }

    private static IResult UploadTooLarge(ModelAdministration admin) => Error(StatusCodes.Status413PayloadTooLarge,
        $"the model upload is larger than {admin.MaxUploadBytes} bytes (Registry:MaxUploadBytes)", HttpErrorCodes.UploadTooLarge);

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
                Batching = CheckedBatching(new BatchingHints(
                    batching.TryGetProperty("max_batch_size", out var size) ? size.GetInt32() : BatchingHints.Default.MaxBatchSize,
                    batching.TryGetProperty("max_queue_delay_ms", out var delay) ? delay.GetInt32() : BatchingHints.Default.MaxQueueDelayMs,
                    batching.TryGetProperty("dispatch_when_idle", out var eager) ? eager.GetBoolean() : null,
                    batching.TryGetProperty("instances", out var instances) ? instances.GetInt32() : null,
                    batching.TryGetProperty("latency_objective_ms", out var objective) ? objective.GetDouble() : null,
                    batching.TryGetProperty("max_queue_size", out var queue) ? queue.GetInt32() : null)),
            };
        if (root.TryGetProperty("sample_request", out var sample))
            registration = registration with { SampleRequest = InferenceCodec.DecodeRequest(System.Text.Encoding.UTF8.GetBytes(sample.GetRawText())) };
        return registration;
    }

    /// <summary>Batching hints a batcher would refuse are refused now, at registration, not when a replica loads the version.</summary>
    private static BatchingHints CheckedBatching(BatchingHints hints)
    {
        try
        {
            BatchingSettings.FromHints(hints).Validate("batching");
            return hints;
        }
        catch (ArgumentException e)
        {
            throw new JsonException(e.Message);
        }
    }

    /// <summary>Who made the change: the authenticated caller's name when the edge knows it. Shared by every audited admin route.</summary>
    internal static string Actor(HttpContext http) => http.User.Identity?.Name is { Length: > 0 } name ? name : "anonymous";

    private static async Task<IResult> Answer(Task<AdminResult> change) => ToResult(await change, StatusCodes.Status200OK);

    private static IResult ToResult(AdminResult result, int successStatus) => result switch
    {
        AdminResult.Done done => Change(done, successStatus),
        AdminResult.Scaled scaled => TypedResults.Json(ScaleResponse.Of(scaled.Model, scaled.Scale) with { Changed = scaled.Changed }, statusCode: successStatus),
        AdminResult.NotFound n => Error(StatusCodes.Status404NotFound, n.Message, HttpErrorCodes.ModelNotFound),
        AdminResult.Conflict c => Error(StatusCodes.Status409Conflict, c.Message, c.Code),
        AdminResult.Invalid i => Error(StatusCodes.Status400BadRequest, i.Message, i.Code),
        _ => Error(StatusCodes.Status500InternalServerError, "unexpected result", HttpErrorCodes.Internal),
    };

    private static IResult Change(AdminResult.Done done, int status, string? outcome = null, string? detail = null) =>
        TypedResults.Json(new AdminChangeResponse(done.Model, done.Changed, done.Version,
            done.Aliases.Entries.ToDictionary(e => e.Key, e => new AliasResponse(e.Value.Version, e.Value.Weight)))
        {
            Outcome = outcome,
            Detail = detail,
        }, statusCode: status);

    private static IResult Error(int status, string message, string code) =>
        TypedResults.Json(new ErrorResponse(message, code), statusCode: status);
}
