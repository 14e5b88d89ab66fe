using Microsoft.Extensions.Options;
using Mlops.Stream.Demo;
using Mlops.Stream.Host.Options;
using Mlops.Stream.Inference.Registry;

namespace Mlops.Stream.Host.Models;

/// <summary>
/// At start, registers the generated demo model (version 1, alias production) when the registry
/// holds no model and <c>Registry:CreateDemoWhenEmpty</c> is on. Runs before the node serves, so
/// the first request already finds a model.
/// </summary>
public sealed class DemoModelSeeder(IModelRegistry registry, IOptions<RegistryOptions> options, ILogger<DemoModelSeeder> logger) : IHostedService
{
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        var settings = options.Value;
        if (!settings.CreateDemoWhenEmpty) return;
        if ((await registry.ListModelsAsync(cancellationToken)).Count > 0) return;

        var manifest = await DemoModelBuilder.CreateAsync(registry, cancellationToken: cancellationToken);
        logger.LogInformation(
            "Registry {Path} was empty: generated and registered the demo model {Model} version {Version} (sha256 {Sha256}) as production",
            settings.FullPath, manifest.Name, manifest.Version, manifest.Sha256);
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
