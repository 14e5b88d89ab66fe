namespace Mlops.Stream.Grpc;

/// <summary>Section <c>Grpc</c>: whether and where the Open Inference Protocol gRPC service listens.</summary>
public sealed class GrpcServerOptions
{
    public const string Section = "Grpc";

    /// <summary>The key that names the listening address in messages (configuration errors, logs).</summary>
    public const string UrlKey = Section + ":" + nameof(Url);

    /// <summary>On by default: an Open Inference Protocol client expects the gRPC port beside the HTTP one.</summary>
    public bool Enabled { get; set; } = true;

    /// <summary>
    /// Where gRPC listens, HTTP/2 without TLS (h2c); port 0 picks a free port (the bound address is
    /// logged and in <c>GET /api/v1/system</c>). Its own port: 8081 beside HTTP's 8080, as KServe does.
    /// </summary>
    public string Url { get; set; } = "http://127.0.0.1:8081";
}

/// <summary>The gRPC address could not be bound (another process holds it); the node stops at start naming <see cref="GrpcServerOptions.UrlKey"/>.</summary>
public sealed class GrpcListenException(string problem, Exception inner) : Exception(problem, inner)
{
    public string Key => GrpcServerOptions.UrlKey;
}
