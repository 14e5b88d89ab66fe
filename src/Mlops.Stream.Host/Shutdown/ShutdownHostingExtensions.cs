using Microsoft.Extensions.Diagnostics.HealthChecks;
using Mlops.Stream.Host.Options;
using Mlops.Stream.Http;

namespace Mlops.Stream.Host.Shutdown;

public static class ShutdownHostingExtensions
{
    /// <summary>
    /// How the node stops (<see cref="ShutdownOptions"/>): <see cref="GracefulStop"/> before any
    /// service stops, and the host's own limit on the whole stop.
    /// </summary>
    public static WebApplicationBuilder AddMlopsShutdown(this WebApplicationBuilder builder)
    {
        var options = builder.Configuration.BindValidatedNow<ShutdownOptions, ShutdownOptionsValidator>(ShutdownOptions.Section);
        builder.Services.AddValidatedOptions<ShutdownOptions, ShutdownOptionsValidator>(ShutdownOptions.Section);
        builder.Services.Configure<HostOptions>(host => host.ShutdownTimeout = options.Timeout);
        builder.Services.AddSingleton<GracefulStop>();
        builder.Services.AddHostedService(sp => sp.GetRequiredService<GracefulStop>());
        builder.Services.AddHealthChecks().Add(new HealthCheckRegistration(
            "shutdown", sp => sp.GetRequiredService<GracefulStop>(), HealthStatus.Unhealthy, [HealthTags.Ready]));
        return builder;
    }
}
