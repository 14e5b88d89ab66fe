using Microsoft.Extensions.Hosting;

namespace Mlops.Stream.Grpc.Internal;

/// <summary>
/// The gRPC server's host runs inside the node's, which owns the process: its lifetime ignores
/// Ctrl+C and SIGTERM (the default console lifetime would catch them a second time and log its
/// start-up lines twice). The node stops this host through <see cref="GrpcInferenceServer"/>.
/// </summary>
internal sealed class NodeOwnedLifetime : IHostLifetime
{
    public Task WaitForStartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
