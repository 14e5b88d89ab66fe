using Mlops.Stream.Inference.Registry;
using Mlops.Stream.Inference.Registry.Mlflow;
using static Mlops.Stream.Host.Tests.Mlflow.MlflowFixtures;

namespace Mlops.Stream.Host.Tests.Mlflow;

/// <summary>The MLflow registry backend against a fake MLflow tracking server: resolution, download and cache, writes, errors.</summary>
public sealed class MlflowModelRegistryTests
{
    [Fact]
    public async Task Production_and_canary_come_from_the_configured_aliases_and_the_canary_weight_from_its_version_tag()
    {
        await using var fake = await FakeMlflow.StartAsync();
        using var cache = new TempDirectory("mlops-mlflow-cache-");
        var onnx = DemoVersion(1).OnnxModel;
        fake.LogModel(Model, onnx);
        fake.LogModel(Model, onnx);
        fake.LogModel(Model, onnx);
        fake.SetAlias(Model, "champion", 1);
        fake.SetAlias(Model, "challenger", 2);
        fake.SetVersionTag(Model, 2, MlflowTags.CanaryWeight, "0.25");
        fake.SetAlias(Model, "production", 3);   // not the configured production alias: not ours to serve
        using var registry = new MlflowModelRegistry(Settings(fake, cache.Path) with { ProductionAlias = "champion", CanaryAlias = "challenger" });

        var aliases = await registry.GetAliasesAsync(Model);

        Assert.Equal(["fraud-demo"], await registry.ListModelsAsync());
        Assert.Equal([1, 2, 3], await registry.ListVersionsAsync(Model));
        Assert.Equal(1, aliases.Production);
        Assert.Equal(new AliasTarget(2, 0.25), aliases.Canary);
        Assert.Equal(2, aliases.Entries.Count);
    }

    [Fact]
    public async Task On_a_server_without_aliases_production_is_the_newest_version_in_the_Production_stage()
    {
        await using var fake = await FakeMlflow.StartAsync(supportsAliases: false);
        using var cache = new TempDirectory("mlops-mlflow-cache-");
        foreach (var _ in Enumerable.Range(0, 3)) fake.LogModel(Model, DemoVersion(1).OnnxModel);
        fake.SetStage(Model, 1, "Production");
        fake.SetStage(Model, 2, "Production");
        fake.SetStage(Model, 3, "Staging");
        fake.SetModelTag(Model, MlflowTags.AliasPrefix + "previous", "1");
        using var registry = new MlflowModelRegistry(Settings(fake, cache.Path) with { ServeFrom = MlflowServingSource.Stage });

        var aliases = await registry.GetAliasesAsync(Model);

        Assert.Equal(2, aliases.Production);
        Assert.Equal(1, aliases.Resolve("previous"));
        Assert.Null(aliases.Canary);
    }

    [Fact]
    public async Task A_version_is_downloaded_once_through_the_artifact_proxy_then_opened_from_the_cache_even_by_a_new_registry()
    {
        await using var fake = await FakeMlflow.StartAsync();
        using var cache = new TempDirectory("mlops-mlflow-cache-");
        // Logged as mlflow.onnx.log_model does: an MLmodel naming the file, here beside a decoy .onnx file.
        fake.LogModel(Model, DemoVersion(1).OnnxModel, onnxFileName: "fraud.onnx", extraFiles: new Dictionary<string, byte[]> { ["decoy.onnx"] = [1, 2, 3] });
        fake.SetAlias(Model, "production", 1);

        using (var registry = new MlflowModelRegistry(Settings(fake, cache.Path)))
        {
            var first = await registry.OpenVersionAsync(Model, 1);
            var again = await registry.OpenVersionAsync(Model, 1);
            Assert.Equal(DemoVersion(1).OnnxModel, first.ModelBytes);
            Assert.Equal(DemoVersion(1).Sha256, again.Manifest.Sha256);
            Assert.Equal(DemoSignature(), first.Manifest.Signature);
        }
        using (var restarted = new MlflowModelRegistry(Settings(fake, cache.Path)))
        {
            Assert.Equal(DemoVersion(1).Sha256, (await restarted.VerifyVersionAsync(Model, 1)).Sha256);
        }

        Assert.Equal(1, fake.DownloadsOf("/fraud.onnx"));
        Assert.Equal(0, fake.DownloadsOf("/decoy.onnx"));
        Assert.True(File.Exists(Path.Combine(cache.Path, Model, "1", "model.onnx")));
    }

    [Fact]
    public async Task An_artifact_whose_sha256_differs_from_its_tag_is_refused_and_not_kept()
    {
        await using var fake = await FakeMlflow.StartAsync();
        using var cache = new TempDirectory("mlops-mlflow-cache-");
        fake.LogModel(Model, DemoVersion(1).OnnxModel, sha256Tag: DemoVersion(2).Sha256);
        using var registry = new MlflowModelRegistry(Settings(fake, cache.Path));

        var refused = await Assert.ThrowsAsync<ModelRegistryException>(() => registry.OpenVersionAsync(Model, 1));

        Assert.Equal(ModelRegistryError.ChecksumMismatch, refused.Error);
        Assert.Contains(MlflowTags.Sha256, refused.Message);
        Assert.False(Directory.Exists(Path.Combine(cache.Path, Model, "1")));
        Assert.Empty(Directory.EnumerateFiles(cache.Path, "*", SearchOption.AllDirectories));   // the download's temporary file is gone too
    }

    [Fact]
    public async Task MLflow_error_bodies_and_outages_become_the_registry_typed_errors()
    {
        await using var fake = await FakeMlflow.StartAsync(token: "a-token-of-sixteen-chars");
        using var cache = new TempDirectory("mlops-mlflow-cache-");
        fake.LogModel(Model, DemoVersion(1).OnnxModel);
        using var withoutToken = new MlflowModelRegistry(Settings(fake, cache.Path));
        using var registry = new MlflowModelRegistry(Settings(fake, cache.Path) with { Token = fake.Token, RequestTimeout = TimeSpan.FromSeconds(5) });

        var unauthenticated = await Assert.ThrowsAsync<ModelRegistryException>(() => withoutToken.ListModelsAsync());
        Assert.Equal(ModelRegistryError.Unavailable, unauthenticated.Error);
        Assert.Contains("UNAUTHENTICATED", unauthenticated.Message);

        Assert.Equal(ModelRegistryError.NotFound, (await Assert.ThrowsAsync<ModelRegistryException>(() => registry.OpenVersionAsync(Model, 7))).Error);
        Assert.Equal(ModelRegistryError.Conflict,
            (await Assert.ThrowsAsync<ModelRegistryException>(() => registry.SetAliasAsync(Model, "production", new AliasTarget(9)))).Error);
        Assert.True(registry.Reachability.Reachable);

        await fake.StopAsync();
        var down = await Assert.ThrowsAsync<ModelRegistryException>(() => registry.RefreshAsync());
        Assert.Equal(ModelRegistryError.Unavailable, down.Error);
        Assert.False(registry.Reachability.Reachable);
        Assert.True(registry.Reachability.HasState);
        Assert.Equal([1], await registry.ListVersionsAsync(Model));   // the last state read still answers
    }

    [Fact]
    public async Task Alias_changes_are_written_to_MLflow_aliases_with_the_canary_weight_tag_first()
    {
        await using var fake = await FakeMlflow.StartAsync();
        using var cache = new TempDirectory("mlops-mlflow-cache-");
        foreach (var _ in Enumerable.Range(0, 3)) fake.LogModel(Model, DemoVersion(1).OnnxModel);
        fake.SetAlias(Model, "champion", 1);
        using var registry = new MlflowModelRegistry(Settings(fake, cache.Path) with { ProductionAlias = "champion" });
        var changes = 0;
        using var watch = registry.WatchAliases(() => Interlocked.Increment(ref changes));

        await registry.UpdateAliasesAsync(Model, a => a.With(ModelAliases.ProductionAlias, 2).With("previous", 1).With(ModelAliases.CanaryAlias, 3, 0.1));

        Assert.Equal((2, 1, 3), (fake.AliasOf(Model, "champion"), fake.AliasOf(Model, "previous"), fake.AliasOf(Model, "canary")));
        Assert.Equal("0.1", fake.VersionTag(Model, 3, MlflowTags.CanaryWeight));
        var writes = fake.Writes.ToList();
        Assert.True(writes.IndexOf("POST /api/2.0/mlflow/model-versions/set-tag") < writes.LastIndexOf("POST /api/2.0/mlflow/registered-models/alias"));
        Assert.Equal(new AliasTarget(3, 0.1), (await registry.GetAliasesAsync(Model)).Canary);   // read back into what the node serves from
        Assert.True(changes > 0);

        await registry.SetAliasAsync(Model, ModelAliases.CanaryAlias, null);
        Assert.Null(fake.AliasOf(Model, "canary"));
        Assert.Contains("DELETE /api/2.0/mlflow/registered-models/alias", fake.Writes);
    }

    [Fact]
    public async Task On_a_server_without_aliases_a_promotion_is_a_stage_transition_and_the_other_aliases_are_tags()
    {
        await using var fake = await FakeMlflow.StartAsync(supportsAliases: false);
        using var cache = new TempDirectory("mlops-mlflow-cache-");
        fake.LogModel(Model, DemoVersion(1).OnnxModel);
        fake.LogModel(Model, DemoVersion(1).OnnxModel);
        fake.SetStage(Model, 1, "Production");
        using var registry = new MlflowModelRegistry(Settings(fake, cache.Path) with { ServeFrom = MlflowServingSource.Stage });

        await registry.UpdateAliasesAsync(Model, a => a.With(ModelAliases.ProductionAlias, 2).With("previous", 1));

        Assert.Equal(("Production", "Archived"), (fake.StageOf(Model, 2), fake.StageOf(Model, 1)));
        Assert.Equal("1", fake.ModelTag(Model, MlflowTags.AliasPrefix + "previous"));
        Assert.Equal(2, (await registry.GetAliasesAsync(Model)).Production);
    }

    [Fact]
    public async Task Registration_uploads_through_the_artifact_proxy_creates_a_tagged_version_and_keeps_the_file_as_the_cached_version()
    {
        await using var fake = await FakeMlflow.StartAsync();
        using var cache = new TempDirectory("mlops-mlflow-cache-");
        using var registry = new MlflowModelRegistry(Settings(fake, cache.Path));

        var manifest = await registry.RegisterVersionAsync(DemoVersion(1).Registration);
        await registry.SetScaleAsync(Model, new ModelScale(2));

        Assert.Equal(1, manifest.Version);
        Assert.Equal(DemoVersion(1).Sha256, fake.VersionTag(Model, 1, MlflowTags.Sha256));
        var source = fake.SourceOf(Model, 1)!;
        Assert.StartsWith("mlflow-artifacts:/mlops-models/fraud-demo/", source);
        var folder = source["mlflow-artifacts:/".Length..];
        Assert.Equal(DemoVersion(1).OnnxModel, fake.Artifact($"{folder}/model.onnx"));
        Assert.Contains("\"feature_names\"", System.Text.Encoding.UTF8.GetString(fake.Artifact($"{folder}/{MlflowTags.ManifestFileName}")!));
        Assert.Equal([1], await registry.ListVersionsAsync(Model));
        Assert.Equal(2, (await registry.GetScaleAsync(Model))!.Replicas);
        Assert.Contains("\"replicas\"", fake.ModelTag(Model, MlflowTags.Scale));

        // The version serves from the uploaded file: nothing is downloaded; a fresh registry downloads and gets the same manifest.
        Assert.Equal(DemoVersion(1).Registration.FeatureNames.ToArray(), (await registry.OpenVersionAsync(Model, 1)).Manifest.FeatureNames.ToArray());
        Assert.Equal(0, fake.DownloadsOf("/model.onnx"));
        using var other = new TempDirectory("mlops-mlflow-cache-");
        using var elsewhere = new MlflowModelRegistry(Settings(fake, other.Path));
        var downloaded = await elsewhere.GetManifestAsync(Model, 1);
        Assert.Equal(DemoVersion(1).Registration.FeatureNames.ToArray(), downloaded.FeatureNames.ToArray());
        Assert.Equal(DemoVersion(1).Sha256, downloaded.Sha256);
        Assert.NotNull(downloaded.SampleRequest);
        Assert.Equal(1, fake.DownloadsOf("/model.onnx"));

        // MLflow numbers versions: a registration may name only the next number.
        var taken = await Assert.ThrowsAsync<ModelRegistryException>(() => registry.RegisterVersionAsync(DemoVersion(1).Registration with { Version = 1 }));
        Assert.Equal(ModelRegistryError.Conflict, taken.Error);
        Assert.Equal(ModelRegistryError.Invalid, (await Assert.ThrowsAsync<ModelRegistryException>(() => registry.RegisterVersionAsync(DemoVersion(1).Registration with { Version = 5 }))).Error);
    }

    [Fact]
    public async Task A_reference_sample_is_refused_with_the_reason_and_nothing_is_registered_in_MLflow()
    {
        await using var fake = await FakeMlflow.StartAsync();
        using var cache = new TempDirectory("mlops-mlflow-cache-");
        using var mlflow = new MlflowModelRegistry(Settings(fake, cache.Path));
        IModelRegistry registry = mlflow;   // the sample methods are the interface's defaults: no samples kept
        var sample = ReferenceSample.Of(["amount"], [[1.0, 2.0]]);

        var refused = await Assert.ThrowsAsync<ModelRegistryException>(() => registry.RegisterVersionAsync(DemoVersion(1).Registration with { ReferenceSample = sample }));
        var baseline = await Assert.ThrowsAsync<ModelRegistryException>(() => registry.SetReferenceSampleAsync(Model, 1, sample));

        Assert.Equal(ModelRegistryError.Invalid, refused.Error);
        Assert.Contains("the MLflow registry does not store reference samples yet", refused.Message);
        Assert.Equal(ModelRegistryError.Invalid, baseline.Error);
        Assert.Null(fake.SourceOf(Model, 1));
        Assert.Null(await registry.GetReferenceSampleAsync(Model, 1));
    }

    private static Inference.Wire.ModelSignature DemoSignature() => Mlops.Stream.Demo.DemoModelBuilder.Signature;
}
