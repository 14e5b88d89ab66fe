using System.Globalization;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Mlops.Stream.Http.Internal;
using Mlops.Stream.Inference.Batching;
using Mlops.Stream.Inference.Gateway;

namespace Mlops.Stream.Http;

/// <summary>
/// The Open Inference Protocol v2 (KServe) endpoints under <c>/v2</c>: infer, model metadata and
/// readiness, server health and metadata. Everything goes through <see cref="IInferenceGateway"/>;
/// infer bodies are handed over as raw bytes (the serving side owns the one v2 codec). Errors are
/// <see cref="ErrorResponse"/> bodies: 400 invalid request or version, 404 unknown model or
/// version, 408 body too slow, 413 body over <see cref="InferenceApiOptions.MaxRequestBodyBytes"/>,
/// 415 body not <c>application/json</c> (or binary tensors with an <c>Inference-Header-Content-Length</c>
/// header: the protocol's binary extension, see <see cref="Internal.BinaryTensorExtension"/>), 429 queue full
/// (with <c>Retry-After</c>), 500 model failure, 503 not ready or shutting down, 504 no answer
/// within <see cref="InferenceApiOptions.InferTimeout"/>.
/// </summary>
public static class InferenceApi
{
    /// <summary>nginx's "client closed request": logged for a caller that went away, never seen by it.</summary>
    private const int ClientClosedRequest = 499;

    private const string LoggerCategory = "Mlops.Stream.Http.InferenceApi";

    /// <summary>The version in log scopes when the path names none (the serving side picks it).</summary>
    private const string ServingVersion = "serving";

    public static IEndpointRouteBuilder MapInferenceApi(this IEndpointRouteBuilder endpoints)
    {
        var v2 = endpoints.MapGroup("/v2").WithTags("Inference");
        v2.MapGet("", GetServerMetadata).WithSummary("Server metadata: name, version, protocol extensions");
        v2.MapGet("/health/live", GetLive).WithSummary("Server liveness");
        v2.MapGet("/health/ready", GetServerReadyAsync).WithSummary("Server readiness: every model with a production version is served")
            .Errors(StatusCodes.Status503ServiceUnavailable);

        var model = v2.MapGroup("/models/{model}");
        model.MapGet("", (string model, IInferenceGateway gateway, CancellationToken cancellationToken) =>
            GetModelMetadataAsync(gateway, model, null, cancellationToken))
            .WithSummary("Model metadata: versions, inputs and outputs of the served version").Errors(MetadataErrors);
        model.MapGet("/versions/{version}", (string model, string version, IInferenceGateway gateway, CancellationToken cancellationToken) =>
            GetModelMetadataAsync(gateway, model, version, cancellationToken))
            .WithSummary("Metadata of one version of the model").Errors(MetadataErrors);
        model.MapGet("/ready", (string model, IInferenceGateway gateway, CancellationToken cancellationToken) =>
            GetModelReadyAsync(gateway, model, null, cancellationToken))
            .WithSummary("Model readiness: a version is loaded and serving").Errors(ReadyErrors);
        model.MapGet("/versions/{version}/ready", (string model, string version, IInferenceGateway gateway, CancellationToken cancellationToken) =>
            GetModelReadyAsync(gateway, model, version, cancellationToken))
            .WithSummary("Readiness of one version: it is the version being served").Errors(ReadyErrors);
        model.MapPost("/infer", (string model, HttpContext context, IInferenceGateway gateway, IOptions<InferenceApiOptions> options, ILoggerFactory loggers) =>
            InferAsync(context, gateway, options.Value, loggers, model, null))
            .WithSummary("Infer with the served version (canary traffic split by request id)").DocumentedAsInfer();
        model.MapPost("/versions/{version}/infer", (string model, string version, HttpContext context, IInferenceGateway gateway, IOptions<InferenceApiOptions> options, ILoggerFactory loggers) =>
            InferAsync(context, gateway, options.Value, loggers, model, version))
            .WithSummary("Infer with one version (it must be the one being served)").DocumentedAsInfer();
        return endpoints;
    }

    private static readonly int[] MetadataErrors = [StatusCodes.Status400BadRequest, StatusCodes.Status404NotFound];

    private static readonly int[] ReadyErrors = [StatusCodes.Status400BadRequest, StatusCodes.Status404NotFound, StatusCodes.Status503ServiceUnavailable];

    /// <summary>
    /// The body is read as bytes (JSON or the binary tensor extension) and handed to the serving
    /// side, so its schema is declared here: 400 invalid request, 404 unknown model or version, 408
    /// body too slow, 413 body too large, 415 not JSON, 429 queue full, 500 model failure, 503 not
    /// ready or shutting down, 504 no answer in time.
    /// </summary>
    private static RouteHandlerBuilder DocumentedAsInfer(this RouteHandlerBuilder route) => route
        .WithDescription("The body is a v2 infer request as JSON, or the binary tensor extension as Triton and KServe clients send it: " +
            "the JSON header, then the tensors' raw bytes, with the header's length in `Inference-Header-Content-Length` " +
            "(and `parameters.binary_data_size` per input). Outputs asked for with `binary_data: true` come back the same way.")
        .DocumentsBody<InferRequestBody>("application/json")
        .Produces<InferResponseBody>(StatusCodes.Status200OK, "application/json")
        .Errors(StatusCodes.Status400BadRequest, StatusCodes.Status404NotFound, StatusCodes.Status408RequestTimeout,
            StatusCodes.Status413PayloadTooLarge, StatusCodes.Status415UnsupportedMediaType, StatusCodes.Status429TooManyRequests,
            StatusCodes.Status500InternalServerError, StatusCodes.Status503ServiceUnavailable, StatusCodes.Status504GatewayTimeout,
            StatusCodes.Status507InsufficientStorage);

    private static Ok<ServerMetadataResponse> GetServerMetadata() => TypedResults.Ok(ServerMetadataResponse.Current);

    private static Ok<ServerLiveResponse> GetLive() => TypedResults.Ok(new ServerLiveResponse(true));

    /// <summary>Ready when every model that has a production version is being served; models without one do not count.</summary>
    private static async Task<Results<Ok<ServerReadyResponse>, JsonHttpResult<ErrorResponse>>> GetServerReadyAsync(
        IInferenceGateway gateway, CancellationToken cancellationToken)
    {
        var models = await gateway.ListModelsAsync(cancellationToken);
        var unready = ModelReadiness.Unready(models);
        return unready.Count == 0
            ? TypedResults.Ok(new ServerReadyResponse(true))
            : Error(StatusCodes.Status503ServiceUnavailable, "models not ready: " + string.Join(", ", unready), HttpErrorCodes.ModelNotReady);
    }

    private static async Task<Results<Ok<ModelMetadataResponse>, JsonHttpResult<ErrorResponse>>> GetModelMetadataAsync(
        IInferenceGateway gateway, string model, string? versionText, CancellationToken cancellationToken)
    {
        var (status, version, notFound) = await LookUpAsync(gateway, model, versionText, cancellationToken);
        if (notFound is not null)
        {
            return notFound;
        }

        return TypedResults.Ok(ModelMetadataResponse.From(status));
    }

    /// <summary>200 when the model is Ready (and, for a version, serving exactly that version); 503 otherwise.</summary>
    private static async Task<Results<Ok<ModelReadyResponse>, JsonHttpResult<ErrorResponse>>> GetModelReadyAsync(
        IInferenceGateway gateway, string model, string? versionText, CancellationToken cancellationToken)
    {
        var (status, version, notFound) = await LookUpAsync(gateway, model, versionText, cancellationToken);
        if (notFound is not null)
        {
            return notFound;
        }

        if (status.State != ReplicaState.Ready)
        {
            var reason = status.Reason is null ? "" : ": " + status.Reason;
            return Error(StatusCodes.Status503ServiceUnavailable, $"model '{model}' is {ModelStates.ToWireName(status.State)}{reason}", HttpErrorCodes.ModelNotReady);
        }

        if (version is { } wanted && status.ServingVersion != wanted)
        {
            return Error(
                StatusCodes.Status503ServiceUnavailable,
                $"model '{model}' version {wanted} is not the one being served (serving {status.ServingVersion?.ToString(CultureInfo.InvariantCulture) ?? "none"})",
                HttpErrorCodes.ModelNotReady);
        }

        return TypedResults.Ok(new ModelReadyResponse(model, true));
    }

    /// <summary>Runs one infer call and counts it in <c>mlops_requests_total</c> (source http) when the node has metrics.</summary>
    private static async Task<Results<FileContentHttpResult, JsonHttpResult<ErrorResponse>, StatusCodeHttpResult>> InferAsync(
        HttpContext context, IInferenceGateway gateway, InferenceApiOptions options, ILoggerFactory loggers, string model, string? versionText)
    {
        var (result, outcome) = await RunInferAsync(context, gateway, options, loggers, model, versionText);
        outcome.CountIn(context.RequestServices.GetService<IRequestCounter>(), model, RequestSources.Http);
        return result;
    }

    private static async Task<(Results<FileContentHttpResult, JsonHttpResult<ErrorResponse>, StatusCodeHttpResult>, InferOutcome)> RunInferAsync(
        HttpContext context, IInferenceGateway gateway, InferenceApiOptions options, ILoggerFactory loggers, string model, string? versionText)
    {
        if (!TryParseVersion(versionText, out var version, out var badVersion))
        {
            return (badVersion, new InferOutcome(RequestOutcomes.Invalid));
        }

        // Every log line of this request (here and in the serving side, which runs in the same async
        // flow) carries the model and the version asked for; ASP.NET Core's own scope adds the request
        // id. Never the body: payloads stay out of the logs.
        var logger = loggers.CreateLogger(LoggerCategory);
        using var scope = logger.BeginScope("Model {Model}, version {Version}", model, versionText ?? ServingVersion);

        // Only JSON, or the binary tensor extension (a JSON header, its length in a header no browser
        // form sets): a text/plain or form post is a "simple" request a browser page may send to any
        // origin without a CORS preflight, and inference can be keyless.
        var binaryHeaderLength = context.Request.Headers[BinaryTensorExtension.HeaderLength].ToString();
        var binaryRequest = binaryHeaderLength.Length > 0;
        if (!binaryRequest && !context.Request.HasJsonContentType())
        {
            return (Error(
                StatusCodes.Status415UnsupportedMediaType,
                $"the body must be application/json, or binary tensors with an {BinaryTensorExtension.HeaderLength} header (found '{context.Request.ContentType}')",
                HttpErrorCodes.UnsupportedMediaType), new InferOutcome(RequestOutcomes.Invalid));
        }

        var aborted = context.RequestAborted;
        ReadOnlyMemory<byte> body;
        try
        {
            var read = await RequestBodyReader.ReadAsync(context.Request, options.MaxRequestBodyBytes, aborted);
            if (read is null)
            {
                return (Error(
                    StatusCodes.Status413PayloadTooLarge,
                    $"request body is larger than the limit of {options.MaxRequestBodyBytes} bytes",
                    HttpErrorCodes.BodyTooLarge), new InferOutcome(RequestOutcomes.Invalid));
            }
            body = read.Value;
        }
        catch (BadHttpRequestException e)
        {
            // Kestrel says which: 408 for a body slower than Http:Limits:MinRequestBodyDataRate, 400 for a malformed one.
            var status = e.StatusCode == StatusCodes.Status408RequestTimeout ? e.StatusCode : StatusCodes.Status400BadRequest;
            return (Error(status, e.Message, HttpErrorCodes.ForStatus(status)), new InferOutcome(RequestOutcomes.Invalid));
        }
        catch (Exception e) when (e is OperationCanceledException or IOException && aborted.IsCancellationRequested)
        {
            return (TypedResults.StatusCode(ClientClosedRequest), new InferOutcome(RequestOutcomes.Cancelled));
        }

        if (binaryRequest)
        {
            var (json, invalid) = BinaryTensorExtension.ToJson(body.Span, binaryHeaderLength);
            if (invalid is not null)
            {
                return (Error(StatusCodes.Status400BadRequest, invalid.Message, invalid.WireCode), new InferOutcome(RequestOutcomes.Invalid));
            }
            body = json;
        }
        var binaryOutputs = BinaryTensorExtension.Requested(body.Span);

        // The timeout bounds the gateway call only, not the upload. WaitAsync also covers a gateway
        // that does not watch its token, so the caller always gets an answer.
        InferReply reply;
        using (var deadline = CancellationTokenSource.CreateLinkedTokenSource(aborted))
        {
            deadline.CancelAfter(options.InferTimeout);
            try
            {
                reply = await gateway.InferAsync(model, version, body, deadline.Token).WaitAsync(deadline.Token);
            }
            catch (OperationCanceledException) when (aborted.IsCancellationRequested)
            {
                return (TypedResults.StatusCode(ClientClosedRequest), new InferOutcome(RequestOutcomes.Cancelled));
            }
            catch (OperationCanceledException) when (deadline.IsCancellationRequested)
            {
                reply = new InferReply.TimedOut($"model '{model}' did not answer within {options.InferTimeout}");
            }
            catch (Exception e)
            {
                // The gateway promises replies, not exceptions; one escaping is a server bug.
                logger.LogError(e, "Inference on model {Model} failed unexpectedly", model);
                return (Error(StatusCodes.Status500InternalServerError, "inference failed unexpectedly; the server log has the details", HttpErrorCodes.Internal),
                    new InferOutcome(RequestOutcomes.Failed));
            }
        }

        return (ToResult(reply, context.Response, binaryOutputs), InferOutcome.Of(reply, version));
    }

    private static Results<FileContentHttpResult, JsonHttpResult<ErrorResponse>, StatusCodeHttpResult> ToResult(
        InferReply reply, HttpResponse response, BinaryOutputs binaryOutputs)
    {
        switch (reply)
        {
            case InferReply.Served served when binaryOutputs.Any:
                var (binary, headerLength) = BinaryTensorExtension.ToBinary(served.ResponseJson, binaryOutputs);
                response.Headers[BinaryTensorExtension.HeaderLength] = headerLength.ToString(CultureInfo.InvariantCulture);
                return TypedResults.Bytes(binary, "application/octet-stream");
            case InferReply.Served served:
                return TypedResults.Bytes(served.ResponseJson, "application/json");
            case InferReply.Invalid invalid:
                return Error(StatusCodes.Status400BadRequest, invalid.Error.Message, invalid.Error.WireCode);
            case InferReply.NotFound notFound:
                return Error(StatusCodes.Status404NotFound, notFound.Message, HttpErrorCodes.ModelNotFound);
            case InferReply.NotReady notReady:
                return Error(StatusCodes.Status503ServiceUnavailable, notReady.Message, HttpErrorCodes.ModelNotReady);
            case InferReply.OverMemoryBudget over:
                return Error(StatusCodes.Status507InsufficientStorage, over.Message, HttpErrorCodes.OverMemoryBudget);
            case InferReply.Rejected { Rejection: var rejection }:
                var status = rejection.Reason switch
                {
                    BatchRejectionReason.QueueFull => StatusCodes.Status429TooManyRequests,
                    BatchRejectionReason.ShuttingDown => StatusCodes.Status503ServiceUnavailable,
                    _ => StatusCodes.Status500InternalServerError,
                };
                if (status == StatusCodes.Status429TooManyRequests)
                {
                    // A full queue drains within a batch or two; one second is a polite first back-off.
                    response.Headers.RetryAfter = "1";
                }
                return Error(status, rejection.Message, rejection.WireCode);
            case InferReply.TimedOut timedOut:
                return Error(StatusCodes.Status504GatewayTimeout, timedOut.Message, HttpErrorCodes.TimedOut);
            default:
                throw new InvalidOperationException($"unknown infer reply {reply.GetType().Name}");
        }
    }

    /// <summary>The model (and version, if the path names one) a metadata route asks about, or the 400/404 that answers instead.</summary>
    private static async Task<(ModelStatus Status, int? Version, JsonHttpResult<ErrorResponse>? Error)> LookUpAsync(
        IInferenceGateway gateway, string model, string? versionText, CancellationToken cancellationToken)
    {
        if (!TryParseVersion(versionText, out var version, out var badVersion))
        {
            return (null!, null, badVersion);
        }

        var status = await gateway.GetModelAsync(model, cancellationToken);
        var notFound = ModelLookup.NotFound(status, model, version);
        return (status!, version, notFound is null ? null : Error(StatusCodes.Status404NotFound, notFound, HttpErrorCodes.ModelNotFound));
    }

    private static bool TryParseVersion(string? text, out int? version, out JsonHttpResult<ErrorResponse> error)
    {
        var parsed = ModelLookup.TryParseVersion(text, out version, out var problem);
        error = parsed ? null! : Error(StatusCodes.Status400BadRequest, problem!, HttpErrorCodes.InvalidVersion);
        return parsed;
    }

    private static JsonHttpResult<ErrorResponse> Error(int statusCode, string message, string? code) =>
        TypedResults.Json(new ErrorResponse(message, code), statusCode: statusCode);
}
