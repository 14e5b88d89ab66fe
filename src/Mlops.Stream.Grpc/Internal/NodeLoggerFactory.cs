using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Mlops.Stream.Grpc.Internal;

/// <summary>
/// The node's logger factory as the gRPC server's host sees it: its lines go where the node's go,
/// except the host's own status lines ("Now listening on: ...", category
/// <c>Microsoft.Hosting.Lifetime</c>), which would read like the HTTP server's and mislead whoever
/// (or whatever script) reads them for the HTTP address; <see cref="GrpcInferenceServer"/> logs
/// the gRPC address itself. The node owns the factory: disposing this leaves it open.
/// </summary>
internal sealed class NodeLoggerFactory(ILoggerFactory node) : ILoggerFactory
{
    private const string HostLifetimeCategory = "Microsoft.Hosting.Lifetime";

    public ILogger CreateLogger(string categoryName) =>
        categoryName == HostLifetimeCategory ? NullLogger.Instance : node.CreateLogger(categoryName);

    public void AddProvider(ILoggerProvider provider) => node.AddProvider(provider);

    public void Dispose()
    {
    }
}
