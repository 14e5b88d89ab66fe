using Mlops.Stream.Actors.Tests.Support;
using Mlops.Stream.Demo;
using Mlops.Stream.Demo.Internal;
using Mlops.Stream.Inference.Onnx;
using Mlops.Stream.Inference.Registry;
using Mlops.Stream.Inference.Wire;

namespace Mlops.Stream.Actors.Tests.Demo;

public sealed class DemoModelTests
{
    [Fact]
    public void The_generated_data_looks_like_card_fraud_data()
    {
        var demo = DemoFixture.Model;

        Assert.Equal(30, FraudDataset.FeatureNames.Length);
        Assert.Equal(FraudDataset.FeatureNames.Length, FraudDataset.FeatureNames.Distinct().Count());
        Assert.InRange(demo.Training.PositiveRate, 0.015, 0.026);
        Assert.InRange(demo.HoldOut.PositiveRate, 0.01, 0.03);
        Assert.All(demo.Training.Column(1), hour => Assert.InRange(hour, 0, 23));
    }

    [Fact]
    public void The_classifier_is_trained_its_hold_out_auc_is_far_above_chance()
    {
        var demo = DemoFixture.Model;

        // Chance is 0.5; an untrained network with random weights lands near it.
        Assert.InRange(demo.HoldOutAuc, 0.85, 0.999);
        var untrained = MlpTrainer.Train(demo.Training, seed: 1, new MlpTrainingOptions { Epochs = 0 });
        var untrainedAuc = RocAuc.Compute(DemoModelBuilder.FraudScores(untrained, demo.HoldOut), demo.HoldOut.Labels);
        Assert.True(demo.HoldOutAuc > untrainedAuc + 0.1, $"trained AUC {demo.HoldOutAuc:F3} vs untrained {untrainedAuc:F3}");
    }

    [Fact]
    public void Onnx_runtime_outputs_equal_the_trainers_own_predictions()
    {
        var demo = DemoFixture.Model;
        using var model = OnnxModel.Load("fraud-demo", 1, demo.OnnxModel, new OnnxModelOptions { Device = ExecutionDevice.Cpu });
        var holdOut = demo.HoldOut;
        var request = new InferenceRequest("all", [Tensor.Create("features", holdOut.Features, holdOut.Rows, FraudDataset.FeatureCount)]);

        var outcome = Assert.Single(model.Run([request]));

        Assert.True(outcome.IsSuccess, outcome.Error?.ToString());
        var probabilities = outcome.Outputs[0].Span<float>();
        var labels = outcome.Outputs[1].Span<long>();
        var expected = demo.Classifier.PredictProbabilities(holdOut.Features);
        Assert.Equal([holdOut.Rows, 2L], outcome.Outputs[0].Shape.ToArray());
        Assert.Equal([(long)holdOut.Rows], outcome.Outputs[1].Shape.ToArray());
        var worst = 0.0;
        for (var i = 0; i < expected.Length; i++)
        {
            worst = Math.Max(worst, Math.Abs(expected[i] - probabilities[i]));
        }

        Assert.True(worst <= 1e-5, $"largest difference {worst:E2}");
        for (var r = 0; r < holdOut.Rows; r++)
        {
            if (Math.Abs(expected[2 * r + 1] - expected[2 * r]) > 1e-4)
            {
                Assert.Equal(expected[2 * r + 1] > expected[2 * r] ? 1L : 0L, labels[r]);
            }
        }

        Assert.Contains(1L, labels.ToArray());
    }

    [Fact]
    public void The_same_seed_gives_the_same_model_bytes_and_another_seed_does_not()
    {
        var again = DemoModelBuilder.Build(seed: 42);
        var other = DemoModelBuilder.Build(seed: 7);

        Assert.Equal(DemoFixture.Model.Sha256, again.Sha256);
        Assert.NotEqual(DemoFixture.Model.Sha256, other.Sha256);
    }

    [Fact]
    public void The_reference_profile_covers_every_feature_and_all_training_rows()
    {
        var profile = DemoFixture.Model.Registration.ReferenceProfile;

        Assert.Equal(FraudDataset.FeatureNames, profile.Select(p => p.Feature));
        Assert.All(profile, p =>
        {
            Assert.Equal(DemoModelBuilder.TrainingRows, p.Counts.Sum());
            Assert.Equal(p.Edges.Length - 1, p.Counts.Length);
            Assert.True(p.Edges.Zip(p.Edges.Skip(1)).All(e => e.First < e.Second), $"{p.Feature} edges not increasing");
        });
        var cardPresent = profile.Single(p => p.Feature == "card_present");
        Assert.Equal([0.0, 1.0, 2.0], cardPresent.Edges.ToArray());
        Assert.Equal(10, profile.Single(p => p.Feature == "amount").Counts.Length);
    }

    [Fact]
    public async Task CreateAsync_keeps_version_one_that_another_node_stored_between_its_look_and_its_write()
    {
        // Two nodes seeding one shared registry: the other node's version 1 lands after this one
        // looked (it saw no version) and before it writes. That must not fail the start.
        using var root = new TempDirectory();
        var registry = new FolderModelRegistry(root.Path);
        await DemoModelBuilder.CreateAsync(registry);

        var manifest = await DemoModelBuilder.CreateAsync(new LookedTooEarly(registry));

        Assert.Equal(1, manifest.Version);
        Assert.Equal([1], await registry.ListVersionsAsync(DemoModelBuilder.DefaultModelName));
        Assert.Equal(1, (await registry.GetAliasesAsync(DemoModelBuilder.DefaultModelName)).Production);
    }

    [Fact]
    public async Task CreateAsync_refuses_a_version_one_that_is_not_the_demo_model()
    {
        using var root = new TempDirectory();
        var registry = new FolderModelRegistry(root.Path);
        await DemoModelBuilder.CreateAsync(registry, seed: 7);

        var e = await Assert.ThrowsAsync<ModelRegistryException>(() => DemoModelBuilder.CreateAsync(new LookedTooEarly(registry)));

        Assert.Equal(ModelRegistryError.Conflict, e.Error);
        Assert.Contains("not the demo model's", e.Message);
    }

    /// <summary>A registry whose version listing is always from before anyone registered anything.</summary>
    private sealed class LookedTooEarly(IModelRegistry inner) : IModelRegistry
    {
        public Task<IReadOnlyList<int>> ListVersionsAsync(string model, CancellationToken cancellationToken = default) =>
            Task.FromResult<IReadOnlyList<int>>([]);

        public Task<IReadOnlyList<string>> ListModelsAsync(CancellationToken cancellationToken = default) => inner.ListModelsAsync(cancellationToken);
        public Task<ModelManifest> GetManifestAsync(string model, int version, CancellationToken cancellationToken = default) => inner.GetManifestAsync(model, version, cancellationToken);
        public Task<ModelAliases> GetAliasesAsync(string model, CancellationToken cancellationToken = default) => inner.GetAliasesAsync(model, cancellationToken);
        public Task SetAliasesAsync(string model, ModelAliases aliases, CancellationToken cancellationToken = default) => inner.SetAliasesAsync(model, aliases, cancellationToken);
        public Task<ModelAliases> SetAliasAsync(string model, string alias, AliasTarget? target, CancellationToken cancellationToken = default) => inner.SetAliasAsync(model, alias, target, cancellationToken);
        public Task<ModelAliases> UpdateAliasesAsync(string model, Func<ModelAliases, ModelAliases> update, CancellationToken cancellationToken = default) => inner.UpdateAliasesAsync(model, update, cancellationToken);
        public Task<ModelManifest> RegisterVersionAsync(ModelRegistration registration, CancellationToken cancellationToken = default) => inner.RegisterVersionAsync(registration, cancellationToken);
        public Task<ModelUpload> ReceiveUploadAsync(System.IO.Stream content, long maxBytes, CancellationToken cancellationToken = default) => inner.ReceiveUploadAsync(content, maxBytes, cancellationToken);
        public Task<ModelManifest> RegisterVersionAsync(ModelRegistration registration, ModelUpload upload, CancellationToken cancellationToken = default) => inner.RegisterVersionAsync(registration, upload, cancellationToken);
        public Task<ModelArtifacts> OpenVersionAsync(string model, int version, CancellationToken cancellationToken = default) => inner.OpenVersionAsync(model, version, cancellationToken);
        public Task<ModelManifest> VerifyVersionAsync(string model, int version, CancellationToken cancellationToken = default) => inner.VerifyVersionAsync(model, version, cancellationToken);
        public Task<ModelScale?> GetScaleAsync(string model, CancellationToken cancellationToken = default) => inner.GetScaleAsync(model, cancellationToken);
        public Task SetScaleAsync(string model, ModelScale? scale, CancellationToken cancellationToken = default) => inner.SetScaleAsync(model, scale, cancellationToken);
        public IDisposable WatchAliases(Action changed) => inner.WatchAliases(changed);
    }

    [Fact]
    public async Task CreateAsync_registers_version_one_as_production_and_is_idempotent()
    {
        using var root = new TempDirectory();
        var registry = new FolderModelRegistry(root.Path);

        var manifest = await DemoModelBuilder.CreateAsync(registry);
        var again = await DemoModelBuilder.CreateAsync(registry);

        Assert.Equal((DemoModelBuilder.DefaultModelName, 1), (manifest.Name, manifest.Version));
        Assert.Equal(manifest.Sha256, again.Sha256);
        Assert.Equal([1], await registry.ListVersionsAsync(DemoModelBuilder.DefaultModelName));
        Assert.Equal(1, (await registry.GetAliasesAsync(DemoModelBuilder.DefaultModelName)).Production);
        Assert.Equal(["legit", "fraud"], manifest.Labels.ToArray());
        Assert.Equal(new BatchingHints(64, 5), manifest.Batching);

        var artifacts = await registry.OpenVersionAsync(DemoModelBuilder.DefaultModelName, 1);
        using var model = OnnxModel.Load(artifacts, new OnnxModelOptions { Device = ExecutionDevice.Cpu });
        Assert.Equal(4, artifacts.Manifest.SampleRequest!.Inputs[0].Rows);
        Assert.True(model.WarmUp() > TimeSpan.Zero);
    }
}
