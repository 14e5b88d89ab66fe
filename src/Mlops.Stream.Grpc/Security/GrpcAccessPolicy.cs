using Mlops.Stream.Http.Security;

namespace Mlops.Stream.Grpc.Security;

/// <summary>
/// Which role a gRPC method needs, in the terms of the HTTP edge's <see cref="AccessPolicy"/> (whose
/// rules then decide): the health calls and reflection are open, like <c>/v2/health/*</c> (probes
/// carry no credentials, and reflection shows only the published protocol); every other method of
/// <c>inference.GRPCInferenceService</c> needs the infer role, like the rest of <c>/v2</c>; any
/// other method needs admin, so a service added later is closed until someone decides otherwise here.
/// </summary>
public static class GrpcAccessPolicy
{
    private const string InferenceService = "/inference.GRPCInferenceService/";

    public static RouteAccess For(string method)
    {
        if (method is InferenceService + "ServerLive" or InferenceService + "ServerReady"
            || method.StartsWith("/grpc.reflection.", StringComparison.Ordinal))
        {
            return RouteAccess.Open;
        }
        return method.StartsWith(InferenceService, StringComparison.Ordinal) ? RouteAccess.Infer : RouteAccess.Admin;
    }
}
