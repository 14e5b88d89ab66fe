using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace Mlops.Stream.Grpc;

public static class GrpcServiceCollectionExtensions
{
    /// <summary>
    /// The Open Inference Protocol gRPC edge (<see cref="GrpcInferenceServer"/>), from section
    /// <see cref="GrpcServerOptions.Section"/> (then <paramref name="configure"/>, for tests). It needs
    /// the HTTP edge's services (<c>AddMlopsSecurity</c>, <c>AddInferenceApi</c>) and an
    /// <c>IInferenceGateway</c>; it starts and stops with the host.
    /// </summary>
    public static IServiceCollection AddMlopsGrpc(this IServiceCollection services, Action<GrpcServerOptions>? configure = null)
    {
        var options = services.AddOptions<GrpcServerOptions>().BindConfiguration(GrpcServerOptions.Section);
        if (configure is not null)
        {
            options.Configure(configure);
        }
        options.ValidateOnStart();
        services.TryAddSingleton<GrpcInferenceServer>();
        services.AddHostedService(sp => sp.GetRequiredService<GrpcInferenceServer>());
        return services;
    }
}
