using Grpc.Core;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Mlops.Stream.Grpc.Protocol;
using Mlops.Stream.Http;
using Mlops.Stream.Inference.Gateway;
// The HTTP edge has JSON records of these names; here the protocol's messages are meant.
using ModelMetadataResponse = Mlops.Stream.Grpc.Protocol.ModelMetadataResponse;
using ModelReadyResponse = Mlops.Stream.Grpc.Protocol.ModelReadyResponse;
using ServerLiveResponse = Mlops.Stream.Grpc.Protocol.ServerLiveResponse;
using ServerMetadataResponse = Mlops.Stream.Grpc.Protocol.ServerMetadataResponse;
using ServerReadyResponse = Mlops.Stream.Grpc.Protocol.ServerReadyResponse;

namespace Mlops.Stream.Grpc;

/// <summary>
/// <c>inference.GRPCInferenceService</c>, the Open Inference Protocol over gRPC. It answers exactly
/// what the HTTP edge's <c>/v2</c> routes answer, from the same <see cref="IInferenceGateway"/>:
/// an infer call becomes the same v2 request body and runs on the same batchers (no second
/// inference path), under the same <see cref="InferenceApiOptions"/> (infer timeout; the message
/// size limit is set on the server), and is counted in <c>mlops_requests_total</c> with source
/// <c>grpc</c>. Keys and rate limits are applied before a call gets here
/// (<see cref="Security.GrpcAccessInterceptor"/>); errors follow <see cref="GrpcErrors"/>.
/// Readiness calls answer false rather than fail, as the protocol's health calls do; an unknown
/// model is NOT_FOUND there too.
/// </summary>
public sealed class InferenceGrpcService(
    IInferenceGateway gateway,
    IOptions<InferenceApiOptions> options,
    ILogger<InferenceGrpcService> logger,
    IRequestCounter? counter = null) : GRPCInferenceService.GRPCInferenceServiceBase
{
    /// <summary>
    /// A call cancelled this close to its deadline counts as timed out: the caller gives up at its own
    /// clock's deadline and resets the stream, which reaches this server up to the request's transit
    /// time before the server's deadline (counted from when the request arrived) passes.
    /// </summary>
    private static readonly TimeSpan DeadlineSlack = TimeSpan.FromSeconds(2);

    /// <summary>The version in log scopes when the call names none (the serving side picks it), as over HTTP.</summary>
    private const string ServingVersion = "serving";

    public override Task<ServerLiveResponse> ServerLive(ServerLiveRequest request, ServerCallContext context) =>
        Task.FromResult(new ServerLiveResponse { Live = true });

    public override async Task<ServerReadyResponse> ServerReady(ServerReadyRequest request, ServerCallContext context)
    {
        var models = await gateway.ListModelsAsync(context.CancellationToken);
        return new ServerReadyResponse { Ready = ModelReadiness.Unready(models).Count == 0 };
    }

    public override async Task<ModelReadyResponse> ModelReady(ModelReadyRequest request, ServerCallContext context)
    {
        var (status, version) = await FindAsync(request.Name, request.Version, context.CancellationToken);
        var ready = status.State == ReplicaState.Ready && (version is null || status.ServingVersion == version);
        return new ModelReadyResponse { Ready = ready };
    }

    public override Task<ServerMetadataResponse> ServerMetadata(ServerMetadataRequest request, ServerCallContext context)
    {
        var current = Http.ServerMetadataResponse.Current;
        var response = new ServerMetadataResponse { Name = current.Name, Version = current.Version };
        response.Extensions.Add(current.Extensions);
        return Task.FromResult(response);
    }

    public override async Task<ModelMetadataResponse> ModelMetadata(ModelMetadataRequest request, ServerCallContext context)
    {
        var (status, _) = await FindAsync(request.Name, request.Version, context.CancellationToken);
        // The HTTP edge's own metadata, field for field, so the two edges cannot drift apart.
        var metadata = Http.ModelMetadataResponse.From(status);
        var response = new ModelMetadataResponse { Name = metadata.Name, Platform = metadata.Platform };
        response.Versions.Add(metadata.Versions);
        response.Inputs.Add(metadata.Inputs.Select(ToProto));
        response.Outputs.Add(metadata.Outputs.Select(ToProto));
        return response;
    }

    public override async Task<ModelInferResponse> ModelInfer(ModelInferRequest request, ServerCallContext context)
    {
        var (response, error, outcome) = await RunInferAsync(request, context);
        outcome.CountIn(counter, request.ModelName, RequestSources.Grpc);
        return response ?? throw error!;
    }

    /// <summary>One infer call: the response, or the error to answer with; never throws. Mirrors the HTTP edge's infer route step by step.</summary>
    private async Task<(ModelInferResponse? Response, RpcException? Error, InferOutcome Outcome)> RunInferAsync(
        ModelInferRequest request, ServerCallContext context)
    {
        var model = request.ModelName;
        if (!ModelLookup.TryParseVersion(request.ModelVersion, out var version, out var badVersion))
        {
            return (null, GrpcErrors.Error(StatusCode.InvalidArgument, badVersion!, HttpErrorCodes.InvalidVersion), new InferOutcome(RequestOutcomes.Invalid));
        }

        // Every log line of the call (here and in the serving side, in the same async flow) carries
        // the model and the version asked for. Never the payload.
        using var scope = logger.BeginScope("Model {Model}, version {Version}", model,
            string.IsNullOrEmpty(request.ModelVersion) ? ServingVersion : request.ModelVersion);

        var (body, invalid) = InferRequestTranslator.ToJson(request);
        if (invalid is not null)
        {
            return (null, GrpcErrors.Error(StatusCode.InvalidArgument, invalid.Message, invalid.WireCode), new InferOutcome(RequestOutcomes.Invalid));
        }

        // gRPC cancels the call's token when the caller's deadline passes or it goes away; the infer
        // timeout bounds the wait as it does over HTTP, whichever comes first. WaitAsync also covers a
        // gateway that does not watch its token, so the caller always gets an answer.
        var aborted = context.CancellationToken;
        var timeout = options.Value.InferTimeout;
        InferReply reply;
        using (var deadline = CancellationTokenSource.CreateLinkedTokenSource(aborted))
        {
            deadline.CancelAfter(timeout);
            try
            {
                reply = await gateway.InferAsync(model, version, body, deadline.Token).WaitAsync(deadline.Token);
            }
            catch (OperationCanceledException) when (aborted.IsCancellationRequested)
            {
                // gRPC has answered DEADLINE_EXCEEDED or CANCELLED itself by now; this is for the count.
                // No model label: any caller can make a call time out, whatever name it sends.
                return context.Deadline - DateTime.UtcNow <= DeadlineSlack
                    ? (null, GrpcErrors.Error(StatusCode.DeadlineExceeded, $"model '{model}' did not answer within the call's deadline", HttpErrorCodes.TimedOut),
                        new InferOutcome(RequestOutcomes.TimedOut))
                    : (null, new RpcException(new Status(StatusCode.Cancelled, "the caller cancelled the call")), new InferOutcome(RequestOutcomes.Cancelled));
            }
            catch (OperationCanceledException) when (deadline.IsCancellationRequested)
            {
                reply = new InferReply.TimedOut($"model '{model}' did not answer within {timeout}");
            }
            catch (Exception e)
            {
                // The gateway promises replies, not exceptions; one escaping is a server bug.
                logger.LogError(e, "Inference on model {Model} failed unexpectedly", model);
                return (null, GrpcErrors.Error(StatusCode.Internal, "inference failed unexpectedly; the server log has the details", HttpErrorCodes.Internal),
                    new InferOutcome(RequestOutcomes.Failed));
            }
        }

        var outcome = InferOutcome.Of(reply, version);
        return reply is InferReply.Served served
            ? (InferResponseTranslator.FromJson(served.ResponseJson, raw: request.RawInputContents.Count > 0), null, outcome)
            : (null, GrpcErrors.For(reply), outcome);
    }

    private async Task<(ModelStatus Status, int? Version)> FindAsync(string model, string versionText, CancellationToken cancellationToken)
    {
        if (!ModelLookup.TryParseVersion(versionText, out var version, out var badVersion))
        {
            throw GrpcErrors.Error(StatusCode.InvalidArgument, badVersion!, HttpErrorCodes.InvalidVersion);
        }
        var status = await gateway.GetModelAsync(model, cancellationToken);
        if (ModelLookup.NotFound(status, model, version) is { } notFound)
        {
            throw GrpcErrors.Error(StatusCode.NotFound, notFound, HttpErrorCodes.ModelNotFound);
        }
        return (status!, version);
    }

    private static ModelMetadataResponse.Types.TensorMetadata ToProto(TensorMetadata tensor)
    {
        var proto = new ModelMetadataResponse.Types.TensorMetadata { Name = tensor.Name, Datatype = tensor.DataType };
        proto.Shape.Add(tensor.Shape);
        return proto;
    }
}
