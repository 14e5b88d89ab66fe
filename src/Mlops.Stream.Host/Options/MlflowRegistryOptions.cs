using Mlops.Stream.Inference.Registry;
using Mlops.Stream.Inference.Registry.Mlflow;

namespace Mlops.Stream.Host.Options;

/// <summary>Section <c>Registry:Mlflow</c>: the MLflow registry backend, used when <c>Registry:Kind</c> is <c>mlflow</c>.</summary>
public sealed class MlflowRegistryOptions
{
    /// <summary>The MLflow tracking server, e.g. <c>http://mlflow:5000</c>.</summary>
    public string TrackingUri { get; set; } = "";

    /// <summary>The environment variable holding the token sent as <c>Authorization: Bearer</c>; unset or empty sends none.</summary>
    public string TokenVariable { get; set; } = "MLFLOW_TRACKING_TOKEN";

    /// <summary><c>alias</c> (MLflow 2.3+: registered-model aliases) or <c>stage</c> (older servers: the Production stage).</summary>
    public string ServeFrom { get; set; } = "alias";

    public string ProductionAlias { get; set; } = ModelAliases.ProductionAlias;

    public string CanaryAlias { get; set; } = ModelAliases.CanaryAlias;

    /// <summary>How often every node reads MLflow's state: a promotion made in MLflow serves within about this long.</summary>
    public TimeSpan PollInterval { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>While MLflow cannot be reached, polls back off, doubling from the poll interval up to this.</summary>
    public TimeSpan MaxBackoff { get; set; } = TimeSpan.FromMinutes(1);

    public TimeSpan RequestTimeout { get; set; } = TimeSpan.FromSeconds(30);

    public TimeSpan TransferTimeout { get; set; } = TimeSpan.FromMinutes(30);

    /// <summary>Downloaded versions, relative to the working directory.</summary>
    public string CacheDirectory { get; set; } = "mlflow-cache";

    /// <summary>Where registrations through the admin API upload, below the artifact proxy's root.</summary>
    public string ArtifactPath { get; set; } = "mlops-models";

    public string CacheFullPath => System.IO.Path.GetFullPath(CacheDirectory);

    /// <summary>The backend's immutable settings; the token is read from <see cref="TokenVariable"/> now.</summary>
    public MlflowRegistrySettings ToSettings() => new(new Uri(TrackingUri, UriKind.Absolute), CacheFullPath)
    {
        Token = string.IsNullOrWhiteSpace(TokenVariable) ? null : Environment.GetEnvironmentVariable(TokenVariable) is { Length: > 0 } token ? token : null,
        ServeFrom = ServeFrom.Equals("stage", StringComparison.OrdinalIgnoreCase) ? MlflowServingSource.Stage : MlflowServingSource.Alias,
        ProductionAlias = ProductionAlias,
        CanaryAlias = CanaryAlias,
        RequestTimeout = RequestTimeout,
        TransferTimeout = TransferTimeout,
        ArtifactPath = ArtifactPath,
    };

    /// <summary>Why these settings cannot run (one line per bad key), empty when they can.</summary>
    public IEnumerable<string> Problems()
    {
        const string Prefix = $"{RegistryOptions.Section}:Mlflow:";
        if (!Uri.TryCreate(TrackingUri, UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https") || !string.IsNullOrEmpty(uri.Query))
            yield return $"{Prefix}{nameof(TrackingUri)} must be the MLflow tracking server's http:// or https:// address (found '{TrackingUri}').";
        if (!ServeFrom.Equals("alias", StringComparison.OrdinalIgnoreCase) && !ServeFrom.Equals("stage", StringComparison.OrdinalIgnoreCase))
            yield return $"{Prefix}{nameof(ServeFrom)} must be 'alias' or 'stage' (found '{ServeFrom}').";
        foreach (var (key, alias) in new[] { (nameof(ProductionAlias), ProductionAlias), (nameof(CanaryAlias), CanaryAlias) })
        {
            // MLflow reserves 'latest' and 'v<number>'.
            if (string.IsNullOrWhiteSpace(alias) || alias.Equals("latest", StringComparison.OrdinalIgnoreCase) || System.Text.RegularExpressions.Regex.IsMatch(alias, "^[vV][0-9]+$"))
                yield return $"{Prefix}{key} must be an MLflow alias name other than 'latest' and 'v<number>' (found '{alias}').";
        }
        if (ProductionAlias == CanaryAlias)
            yield return $"{Prefix}{nameof(CanaryAlias)} must differ from {nameof(ProductionAlias)} (both are '{CanaryAlias}').";
        if (PollInterval < TimeSpan.FromMilliseconds(100))
            yield return $"{Prefix}{nameof(PollInterval)} must be at least 00:00:00.1 (found {PollInterval}).";
        if (MaxBackoff < PollInterval)
            yield return $"{Prefix}{nameof(MaxBackoff)} must be at least {nameof(PollInterval)} (found {MaxBackoff}).";
        if (RequestTimeout <= TimeSpan.Zero || TransferTimeout <= TimeSpan.Zero)
            yield return $"{Prefix}{nameof(RequestTimeout)} and {nameof(TransferTimeout)} must be positive (found {RequestTimeout} and {TransferTimeout}).";
        if (string.IsNullOrWhiteSpace(ArtifactPath) || ArtifactPath.Split('/', StringSplitOptions.RemoveEmptyEntries).Any(p => p is "." or ".."))
            yield return $"{Prefix}{nameof(ArtifactPath)} must be a relative path below the artifact root (found '{ArtifactPath}').";
        string? cacheProblem = null;
        if (string.IsNullOrWhiteSpace(CacheDirectory) || CacheDirectory.IndexOfAny(System.IO.Path.GetInvalidPathChars()) >= 0)
        {
            cacheProblem = $"{Prefix}{nameof(CacheDirectory)} must be a folder path (found '{CacheDirectory}').";
        }
        else
        {
            try
            {
                Directory.CreateDirectory(CacheFullPath);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                cacheProblem = $"{Prefix}{nameof(CacheDirectory)} must be a folder the node can create, but '{CacheFullPath}' is not: {e.Message}";
            }
        }
        if (cacheProblem is not null) yield return cacheProblem;
    }
}
