using System.Collections.Immutable;
using System.Globalization;
using Mlops.Stream.Demo.Internal;
using Mlops.Stream.Inference.Registry;
using Mlops.Stream.Inference.Wire;

namespace Mlops.Stream.Demo;

/// <summary>
/// Builds the demo fraud model so a fresh installation has something real to serve: generates
/// the synthetic data, trains the MLP, exports it to ONNX with its manifest (signature, feature
/// names, labels, batching hints, reference profile, sample request) and registers it.
/// </summary>
/// <remarks>
/// Model contract: input <c>features</c> FP32 [-1,30] (raw, unscaled values in
/// <see cref="FraudDataset.FeatureNames"/> order; standardisation is inside the graph); outputs
/// <c>probabilities</c> FP32 [-1,2] (columns "legit", "fraud") and <c>label</c> INT64 [-1]
/// (argmax: 1 = fraud). The loss weights fraud rows ×8, so probabilities are recall-oriented
/// scores rather than calibrated fraud odds.
/// </remarks>
public static class DemoModelBuilder
{
    public const string DefaultModelName = "fraud-demo";
    public const int TrainingRows = 18_000;
    public const int HoldOutRows = 6_000;
    private const int SampleRows = 4;

    public static ImmutableArray<string> Labels { get; } = ["legit", "fraud"];

    public static ModelSignature Signature { get; } = new(
        [new TensorSpec(MlpOnnxExporter.InputName, TensorDataType.Fp32, [TensorSpec.DynamicDimension, FraudDataset.FeatureCount])],
        [
            new TensorSpec(MlpOnnxExporter.ProbabilitiesName, TensorDataType.Fp32, [TensorSpec.DynamicDimension, MlpClassifier.Classes]),
            new TensorSpec(MlpOnnxExporter.LabelName, TensorDataType.Int64, [TensorSpec.DynamicDimension]),
        ]);

    /// <summary>
    /// Registers the demo model as version 1 of <paramref name="modelName"/> and points
    /// "production" at it. Safe to call at every start, and from several nodes starting at once on
    /// one shared registry: whoever stores version 1 first wins, the others find the same model
    /// there (same sha256) and keep it; a production alias an operator already set is left alone.
    /// </summary>
    /// <exception cref="ModelRegistryException">Version 1 exists but holds a different model.</exception>
    public static async Task<ModelManifest> CreateAsync(
        IModelRegistry registry, string modelName = DefaultModelName, int seed = 42, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(registry);
        var demo = Build(modelName, seed);
        var manifest = await RegisterOnceAsync(registry, demo, cancellationToken).ConfigureAwait(false);
        var aliases = await registry.GetAliasesAsync(modelName, cancellationToken).ConfigureAwait(false);
        if (aliases.Production is null)
        {
            // Several nodes may set it at once; they all set the same value.
            await registry.SetAliasAsync(modelName, ModelAliases.ProductionAlias, new AliasTarget(1), cancellationToken).ConfigureAwait(false);
        }

        return manifest;
    }

    /// <summary>Version 1 as registered by this call or by anyone before (or at the same moment), checked to be the demo model.</summary>
    private static async Task<ModelManifest> RegisterOnceAsync(IModelRegistry registry, DemoModel demo, CancellationToken cancellationToken)
    {
        var model = demo.Registration.Model;
        if (!(await registry.ListVersionsAsync(model, cancellationToken).ConfigureAwait(false)).Contains(1))
        {
            try
            {
                return await registry.RegisterVersionAsync(demo.Registration, cancellationToken).ConfigureAwait(false);
            }
            catch (ModelRegistryException e) when (e.Error == ModelRegistryError.Conflict)
            {
                // Another node stored version 1 between our look and our write: check it below.
            }
        }

        var manifest = await registry.GetManifestAsync(model, 1, cancellationToken).ConfigureAwait(false);
        if (!string.Equals(manifest.Sha256, demo.Sha256, StringComparison.OrdinalIgnoreCase))
        {
            throw new ModelRegistryException(
                ModelRegistryError.Conflict,
                $"model '{model}' version 1 already exists with sha256 {manifest.Sha256}, not the demo model's {demo.Sha256}");
        }

        return manifest;
    }

    /// <summary>Generates, trains and exports without touching a registry. Deterministic for a seed.</summary>
    public static DemoModel Build(string modelName = DefaultModelName, int seed = 42)
    {
        var data = FraudDataGenerator.Generate(TrainingRows + HoldOutRows, seed);
        var training = data.Slice(0, TrainingRows);
        var holdOut = data.Slice(TrainingRows, HoldOutRows);
        var classifier = MlpTrainer.Train(training, seed);
        var auc = RocAuc.Compute(FraudScores(classifier, holdOut), holdOut.Labels);

        var onnx = MlpOnnxExporter.Export(
            classifier,
            modelName,
            $"Synthetic card-fraud MLP {classifier.Inputs}-{classifier.Hidden}-{MlpClassifier.Classes}, seed {seed}");

        var profile = FraudDataset.FeatureNames
            .Select((name, column) => FeatureProfile.FromValues(name, training.Column(column)))
            .ToImmutableArray();

        var sample = new InferenceRequest(
            "sample-request",
            [Tensor.Create(MlpOnnxExporter.InputName, holdOut.Slice(0, SampleRows).Features, SampleRows, FraudDataset.FeatureCount)]);

        var registration = new ModelRegistration(modelName, onnx)
        {
            Version = 1,
            Signature = Signature,
            FeatureNames = FraudDataset.FeatureNames,
            Labels = Labels,
            Batching = new BatchingHints(MaxBatchSize: 64, MaxQueueDelayMs: 5),
            ReferenceProfile = profile,
            SampleRequest = sample,
            Description = string.Create(
                CultureInfo.InvariantCulture,
                $"Demo card-fraud classifier (MLP {classifier.Inputs}-{classifier.Hidden}-2, seed {seed}) trained on {TrainingRows} synthetic rows " +
                $"({training.PositiveRate:P1} fraud); hold-out AUC {auc:F3}. Fraud rows weighted x8 in training: scores are not calibrated odds."),
        };

        return new DemoModel(onnx, classifier, training, holdOut, auc, sample, registration);
    }

    /// <summary>The classifier's fraud probability per row of <paramref name="data"/>.</summary>
    internal static float[] FraudScores(MlpClassifier classifier, FraudDataset data)
    {
        var probabilities = classifier.PredictProbabilities(data.Features);
        var scores = new float[data.Rows];
        for (var r = 0; r < scores.Length; r++)
        {
            scores[r] = probabilities[r * MlpClassifier.Classes + 1];
        }

        return scores;
    }
}
