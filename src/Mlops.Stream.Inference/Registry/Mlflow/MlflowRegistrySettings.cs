namespace Mlops.Stream.Inference.Registry.Mlflow;

/// <summary>Where the serving aliases come from: MLflow 2.x aliases, or the stages of older servers.</summary>
public enum MlflowServingSource
{
    /// <summary>Registered-model aliases (MLflow 2.3 and later): production and canary are aliases, the other aliases too.</summary>
    Alias,

    /// <summary>
    /// The <c>Production</c> stage (servers without aliases): production is the newest version in that
    /// stage; our other aliases (canary, previous, ...) are registered-model tags <c>mlops.alias.&lt;name&gt;</c>.
    /// </summary>
    Stage,
}

/// <summary>
/// How the MLflow registry backend reaches MLflow and where it keeps its local copies; immutable,
/// built by the host from <c>Registry:Mlflow</c>.
/// </summary>
/// <param name="TrackingUri">The MLflow tracking server, e.g. <c>http://mlflow:5000/</c>; REST paths are resolved against it.</param>
/// <param name="CacheDirectory">Local folder of downloaded versions (<c>&lt;model&gt;/&lt;version&gt;/model.onnx</c> + <c>manifest.json</c>).</param>
public sealed record MlflowRegistrySettings(Uri TrackingUri, string CacheDirectory)
{
    /// <summary>Sent as <c>Authorization: Bearer</c> when set (read from an environment variable by the host).</summary>
    public string? Token { get; init; }

    /// <summary>The MLflow alias that names the production version.</summary>
    public string ProductionAlias { get; init; } = ModelAliases.ProductionAlias;

    /// <summary>The MLflow alias that names the canary version (its weight is the version's <see cref="MlflowTags.CanaryWeight"/> tag).</summary>
    public string CanaryAlias { get; init; } = ModelAliases.CanaryAlias;

    public MlflowServingSource ServeFrom { get; init; } = MlflowServingSource.Alias;

    /// <summary>How long one REST call (not a download) may take before it counts as a failure.</summary>
    public TimeSpan RequestTimeout { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>How long one artifact download or upload may take.</summary>
    public TimeSpan TransferTimeout { get; init; } = TimeSpan.FromMinutes(30);

    /// <summary>The largest model file a download may bring (ONNX's own protobuf limit is 2 GiB).</summary>
    public long MaxModelBytes { get; init; } = 2L * 1024 * 1024 * 1024;

    /// <summary>Where registrations through our API upload their files, below the mlflow-artifacts root.</summary>
    public string ArtifactPath { get; init; } = "mlops-models";
}
