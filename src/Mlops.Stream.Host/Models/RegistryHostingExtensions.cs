using Microsoft.Extensions.Options;
using Mlops.Stream.Host.Options;
using Mlops.Stream.Inference.Registry;

namespace Mlops.Stream.Host.Models;

public static class RegistryHostingExtensions
{
    /// <summary>
    /// The model registry (folder backend at <c>Registry:Path</c>, whose model names are checked at
    /// start) and, on a first run with an empty registry, the generated demo model, so a fresh clone
    /// serves a real model with no download.
    /// </summary>
    public static IHostApplicationBuilder AddMlopsRegistry(this IHostApplicationBuilder builder)
    {
        builder.Services.AddValidatedOptions<RegistryOptions, RegistryOptionsValidator>(RegistryOptions.Section);
        builder.Services.AddSingleton<IValidateOptions<RegistryOptions>, RegistryModelNamesValidator>();
        builder.Services.AddSingleton<IModelRegistry>(services => new FolderModelRegistry(
            services.GetRequiredService<IOptions<RegistryOptions>>().Value.FullPath,
            services.GetRequiredService<ILogger<FolderModelRegistry>>()));
        builder.Services.AddHostedService<DemoModelSeeder>();
        return builder;
    }
}
