namespace Mlops.Stream.Inference.Registry.Mlflow;

/// <summary>
/// The tags and artifact names the MLflow backend reads and writes. What MLflow has no place for
/// (our replica count, a canary's weight, the model file's checksum) is kept in MLflow itself, as
/// tags, so every node reads the same and an operator sees it in MLflow's UI.
/// </summary>
public static class MlflowTags
{
    /// <summary>Model-version tag: lower-case hex sha256 of the version's ONNX file, checked on every download.</summary>
    public const string Sha256 = "mlops.sha256";

    /// <summary>Model-version tag on the canary version: its share of traffic, a number in [0, 1]. Without it the canary takes no traffic.</summary>
    public const string CanaryWeight = "mlops.canary_weight";

    /// <summary>Registered-model tag: the replica count an operator set (<c>mlops models scale</c>), as the folder registry's scale.json holds it.</summary>
    public const string Scale = "mlops.scale";

    /// <summary>Registered-model tag prefix (stage mode only): <c>mlops.alias.previous</c> = <c>3</c> holds the alias <c>previous</c>.</summary>
    public const string AliasPrefix = "mlops.alias.";

    /// <summary>
    /// The manifest beside the ONNX file in the logged model's folder: what a registration declares
    /// (feature names, labels, batching hints, reference profile, sample request) and the inputs and
    /// outputs, in the folder registry's manifest format without name, version, time and sha256
    /// (MLflow and the tags hold those). Optional: without it, inputs and outputs are read from the model.
    /// </summary>
    public const string ManifestFileName = "mlops_manifest.json";

    /// <summary>MLflow's model metadata file; its <c>onnx</c> flavor's <c>data</c> names the ONNX file.</summary>
    public const string MlmodelFileName = "MLmodel";

    /// <summary>The stage that serves, in stage mode.</summary>
    public const string ProductionStage = "Production";

    /// <summary>Where stage mode sends a version that stops serving (an undeploy).</summary>
    public const string ArchivedStage = "Archived";
}
