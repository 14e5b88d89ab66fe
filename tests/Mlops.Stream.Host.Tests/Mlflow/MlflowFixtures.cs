using Mlops.Stream.Demo;
using Mlops.Stream.Inference.Registry;
using Mlops.Stream.Inference.Registry.Mlflow;

namespace Mlops.Stream.Host.Tests.Mlflow;

/// <summary>What the MLflow tests share: registries pointed at a fake, and demo models registered into it.</summary>
internal static class MlflowFixtures
{
    public const string Model = "fraud-demo";

    private static readonly Lazy<DemoModel> Version1 = new(() => DemoModelBuilder.Build(Model, seed: 42));
    private static readonly Lazy<DemoModel> Version2 = new(() => DemoModelBuilder.Build(Model, seed: 7));

    /// <summary>Two different trainings of the demo model, built once per test run (training takes a moment).</summary>
    public static DemoModel DemoVersion(int version) => version == 1 ? Version1.Value : Version2.Value;

    public static MlflowRegistrySettings Settings(FakeMlflow fake, string cache) => new(fake.Address, cache);

    /// <summary>
    /// Registers the demo model's two versions into <paramref name="fake"/> through the backend's own
    /// registration (artifact upload, manifest, sha256 tag), as an operator would with <c>mlops models register</c>,
    /// and points <paramref name="productionAlias"/> at version 1.
    /// </summary>
    public static async Task SeedTwoVersionsAsync(FakeMlflow fake, string productionAlias = "production")
    {
        using var cache = new TempDirectory("mlops-mlflow-seed-");
        using var registry = new MlflowModelRegistry(Settings(fake, cache.Path) with { Token = fake.Token });
        await registry.RegisterVersionAsync(DemoVersion(1).Registration);
        await registry.RegisterVersionAsync(DemoVersion(2).Registration with { Version = null, SampleRequest = DemoVersion(1).SampleRequest });
        fake.SetAlias(Model, productionAlias, 1);
    }
}
