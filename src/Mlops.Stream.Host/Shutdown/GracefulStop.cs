using System.Diagnostics;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Options;
using Mlops.Stream.Grpc;

namespace Mlops.Stream.Host.Shutdown;

/// <summary>
/// The first thing a stopping node does, in the host's "stopping" step, which runs before any
/// service stops: readiness turns 503 "shutting down", the node keeps serving for
/// <see cref="ShutdownOptions.DrainDelay"/> while load balancers notice, then the HTTP and gRPC
/// servers stop listening and finish the calls in flight, with the replicas still there to answer
/// them. Only then do the services stop: the actor system drains the replicas' Kafka streams and
/// leaves the cluster. Without this the web server and the actor system stopped in the order they
/// were registered, so calls in flight could lose their replicas, and the web server stopped
/// listening before readiness had said anything.
/// </summary>
public sealed class GracefulStop(
    IServer server, IServiceProvider services, IOptions<ShutdownOptions> options, ILogger<GracefulStop> logger) : IHostedLifecycleService, IHealthCheck
{
    // Resolved now: a host may be stopped again after it was disposed (a test's second dispose), when
    // its services can no longer be asked for anything.
    private readonly GrpcInferenceServer? _grpc = services.GetService<GrpcInferenceServer>();
    private int _stopped;
    private volatile bool _stopping;

    public Task StartingAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StartedAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StoppedAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public async Task StoppingAsync(CancellationToken cancellationToken)
    {
        if (Interlocked.Exchange(ref _stopped, 1) == 1) return;   // the servers are stopped once
        _stopping = true;
        var delay = options.Value.DrainDelay;
        var stopwatch = Stopwatch.StartNew();
        logger.LogInformation("Stopping: readiness is now 503; serving on for {DrainDelay}, then finishing the calls in flight", delay);
        if (delay > TimeSpan.Zero)
        {
            try { await Task.Delay(delay, cancellationToken); }
            catch (OperationCanceledException) { /* the host's timeout: stop listening now */ }
        }
        // Both edges at once; each waits for its calls in flight (the host's timeout bounds it).
        await Task.WhenAll(server.StopAsync(cancellationToken), _grpc?.StopAsync(cancellationToken) ?? Task.CompletedTask);
        logger.LogInformation("HTTP and gRPC stopped after {Elapsed} ms; draining the replicas' Kafka streams", stopwatch.ElapsedMilliseconds);
    }

    /// <summary>Readiness: unhealthy from the moment the node starts stopping, so no new traffic is sent to it.</summary>
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default) =>
        Task.FromResult(_stopping ? HealthCheckResult.Unhealthy("The node is shutting down") : HealthCheckResult.Healthy("Not stopping"));
}
