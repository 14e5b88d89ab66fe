using Microsoft.Extensions.Options;
using Mlops.Stream.Host.Metrics;
using Mlops.Stream.Host.Options;
using Mlops.Stream.Http;
using Mlops.Stream.Inference.Registry;
using Mlops.Stream.Inference.Registry.Mlflow;

namespace Mlops.Stream.Host.Models;

public static class RegistryHostingExtensions
{
    /// <summary>
    /// The model registry: by default the folder backend at <c>Registry:Path</c>, whose model names are
    /// checked at start, and, on a first run with an empty registry, the generated demo model, so a
    /// fresh clone serves a real model with no download. With <c>Registry:Kind=mlflow</c>, MLflow's
    /// Model Registry instead (see <see cref="MlflowModelRegistry"/>), polled by
    /// <see cref="MlflowRegistryPoller"/>, with its reachability in readiness (check <c>registry</c>)
    /// and metrics; no demo model is written into MLflow.
    /// </summary>
    public static IHostApplicationBuilder AddMlopsRegistry(this IHostApplicationBuilder builder)
    {
        builder.Services.AddValidatedOptions<RegistryOptions, RegistryOptionsValidator>(RegistryOptions.Section);
        var kind = builder.Configuration.GetSection(RegistryOptions.Section).Get<RegistryOptions>() ?? new RegistryOptions();
        if (kind.IsMlflow)
        {
            builder.Services.AddSingleton(services => new MlflowModelRegistry(
                services.GetRequiredService<IOptions<RegistryOptions>>().Value.Mlflow.ToSettings(),
                services.GetRequiredService<ILoggerFactory>()));
            builder.Services.AddSingleton<IModelRegistry>(services => services.GetRequiredService<MlflowModelRegistry>());
            builder.Services.AddSingleton<IRegistryReachability>(services => services.GetRequiredService<MlflowModelRegistry>());
            builder.Services.AddHostedService<MlflowRegistryPoller>();
            builder.Services.AddHostedService<RegistryMetrics>();
            builder.Services.AddHealthChecks().AddCheck<RegistryReachableCheck>("registry", tags: [HealthTags.Ready]);
            return builder;
        }

        builder.Services.AddSingleton<IValidateOptions<RegistryOptions>, RegistryModelNamesValidator>();
        builder.Services.AddSingleton<IModelRegistry>(services => new FolderModelRegistry(
            services.GetRequiredService<IOptions<RegistryOptions>>().Value.FullPath,
            services.GetRequiredService<ILogger<FolderModelRegistry>>()));
        builder.Services.AddHostedService<DemoModelSeeder>();
        return builder;
    }
}
