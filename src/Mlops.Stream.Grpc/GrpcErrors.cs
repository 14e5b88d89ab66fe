using System.Globalization;
using Grpc.Core;
using Mlops.Stream.Http;
using Mlops.Stream.Inference.Batching;
using Mlops.Stream.Inference.Gateway;

namespace Mlops.Stream.Grpc;

/// <summary>
/// The one table from the HTTP edge's errors to gRPC status codes, so a caller gets the same answer
/// on either edge:
/// <list type="table">
/// <item><term>400 (invalid request, bad version)</term><description>INVALID_ARGUMENT</description></item>
/// <item><term>401 (no key, wrong key)</term><description>UNAUTHENTICATED</description></item>
/// <item><term>403 (the key's role may not)</term><description>PERMISSION_DENIED</description></item>
/// <item><term>404 (unknown model or version)</term><description>NOT_FOUND</description></item>
/// <item><term>413 (message over the limit)</term><description>RESOURCE_EXHAUSTED (gRPC's own size check)</description></item>
/// <item><term>429 (queue full, rate limited)</term><description>RESOURCE_EXHAUSTED, trailer <c>retry-after</c></description></item>
/// <item><term>500 (model failed, server bug)</term><description>INTERNAL</description></item>
/// <item><term>503 (model not ready, shutting down)</term><description>UNAVAILABLE</description></item>
/// <item><term>504 (no answer in time)</term><description>DEADLINE_EXCEEDED</description></item>
/// </list>
/// Every error carries the HTTP body's stable <c>code</c> (<c>shape_mismatch</c>, <c>queue_full</c>,
/// ...) in the trailer <see cref="CodeTrailer"/> and its message as the status detail.
/// </summary>
public static class GrpcErrors
{
    /// <summary>Trailer with the stable error code, the <c>code</c> of the HTTP error body.</summary>
    public const string CodeTrailer = "mlops-error-code";

    /// <summary>Trailer with the seconds to wait before retrying, HTTP's <c>Retry-After</c>.</summary>
    public const string RetryAfterTrailer = "retry-after";

    /// <summary>The status of a reply that is not <see cref="InferReply.Served"/>.</summary>
    public static RpcException For(InferReply reply) => reply switch
    {
        InferReply.Invalid invalid => Error(StatusCode.InvalidArgument, invalid.Error.Message, invalid.Error.WireCode),
        InferReply.NotFound notFound => Error(StatusCode.NotFound, notFound.Message, HttpErrorCodes.ModelNotFound),
        InferReply.NotReady notReady => Error(StatusCode.Unavailable, notReady.Message, HttpErrorCodes.ModelNotReady),
        InferReply.OverMemoryBudget over => Error(StatusCode.ResourceExhausted, over.Message, HttpErrorCodes.OverMemoryBudget),
        // A full queue drains within a batch or two; one second is a polite first back-off, as over HTTP.
        InferReply.Rejected { Rejection: { Reason: BatchRejectionReason.QueueFull } full } =>
            Error(StatusCode.ResourceExhausted, full.Message, full.WireCode, retryAfterSeconds: 1),
        InferReply.Rejected { Rejection: { Reason: BatchRejectionReason.ShuttingDown } stopping } =>
            Error(StatusCode.Unavailable, stopping.Message, stopping.WireCode),
        InferReply.Rejected { Rejection: var failed } => Error(StatusCode.Internal, failed.Message, failed.WireCode),
        InferReply.TimedOut timedOut => Error(StatusCode.DeadlineExceeded, timedOut.Message, HttpErrorCodes.TimedOut),
        _ => throw new InvalidOperationException($"{reply.GetType().Name} is not an error"),
    };

    /// <summary>The gRPC code of an HTTP status the edges share; <see cref="StatusCode.Unknown"/> for one they do not.</summary>
    public static StatusCode CodeFor(int httpStatus) => httpStatus switch
    {
        400 => StatusCode.InvalidArgument,
        401 => StatusCode.Unauthenticated,
        403 => StatusCode.PermissionDenied,
        404 => StatusCode.NotFound,
        413 or 429 => StatusCode.ResourceExhausted,
        500 => StatusCode.Internal,
        503 => StatusCode.Unavailable,
        504 => StatusCode.DeadlineExceeded,
        _ => StatusCode.Unknown,
    };

    public static RpcException Error(StatusCode code, string message, string? wireCode, long? retryAfterSeconds = null)
    {
        var trailers = new Metadata();
        if (wireCode is not null)
        {
            trailers.Add(CodeTrailer, wireCode);
        }
        if (retryAfterSeconds is { } seconds)
        {
            trailers.Add(RetryAfterTrailer, seconds.ToString(CultureInfo.InvariantCulture));
        }
        return new RpcException(new Status(code, message), trailers);
    }
}
