using Mlops.Stream.Demo;
using Mlops.Stream.Host.Options;
using Mlops.Stream.Inference.Registry;

namespace Mlops.Stream.Host.Models;

/// <summary>
/// <c>dotnet run --project src/Mlops.Stream.Host -- create-demo [--Registry:Path=folder] [--model name] [--seed n]</c>:
/// generates the demo data set, trains the demo classifier, registers it (alias production) and
/// exits, without starting a node. The node does the same by itself on a first start.
/// </summary>
public static class CreateDemoCommand
{
    public const string Verb = "create-demo";

    public static async Task<int> RunAsync(string[] args)
    {
        var configuration = new ConfigurationBuilder()
            .AddJsonFile(Path.Combine(AppContext.BaseDirectory, "appsettings.json"), optional: true)
            .AddEnvironmentVariables()
            .AddCommandLine(args.Skip(1).Where(a => a.StartsWith("--Registry:", StringComparison.Ordinal)).ToArray())
            .Build();
        var registryOptions = configuration.GetSection(RegistryOptions.Section).Get<RegistryOptions>() ?? new RegistryOptions();
        var model = Option(args, "--model") ?? DemoModelBuilder.DefaultModelName;
        var seed = int.Parse(Option(args, "--seed") ?? "42", System.Globalization.CultureInfo.InvariantCulture);

        var manifest = await DemoModelBuilder.CreateAsync(new FolderModelRegistry(registryOptions.FullPath), model, seed);
        Console.WriteLine($"Registered {manifest.Name} version {manifest.Version} (sha256 {manifest.Sha256}) in {registryOptions.FullPath} as production.");
        return 0;
    }

    private static string? Option(string[] args, string name)
    {
        var index = Array.IndexOf(args, name);
        return index >= 0 && index + 1 < args.Length ? args[index + 1] : null;
    }
}
