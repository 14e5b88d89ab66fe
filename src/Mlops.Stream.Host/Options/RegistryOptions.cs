using Microsoft.Extensions.Options;

namespace Mlops.Stream.Host.Options;

/// <summary>Section <c>Registry</c>: where models live (the folder backend, the embedded default, or MLflow).</summary>
public sealed class RegistryOptions
{
    public const string Section = "Registry";

    public const string FolderKind = "folder";

    public const string MlflowKind = "mlflow";

    /// <summary><c>folder</c> (models in <see cref="Path"/>) or <c>mlflow</c> (MLflow's Model Registry, see <see cref="Mlflow"/>).</summary>
    public string Kind { get; set; } = FolderKind;

    public MlflowRegistryOptions Mlflow { get; set; } = new();

    public bool IsMlflow => Kind.Equals(MlflowKind, StringComparison.OrdinalIgnoreCase);

    /// <summary>Folder of <c>&lt;model&gt;/&lt;version&gt;/model.onnx</c>, relative to the working directory.</summary>
    public string Path { get; set; } = "registry";

    /// <summary>When the registry holds no model at start, generate and register the demo model.</summary>
    public bool CreateDemoWhenEmpty { get; set; } = true;

    /// <summary>The largest model an upload may hold; larger ones get 413 and nothing is kept. Default 2 GiB, ONNX's own limit (a protobuf message).</summary>
    public long MaxUploadBytes { get; set; } = 2L * 1024 * 1024 * 1024;

    public string FullPath => System.IO.Path.GetFullPath(Path);
}

/// <summary>
/// Checks <see cref="RegistryOptions"/> at start. The folder is created when missing and must be
/// listable, so a path that is a file or cannot be read stops the start naming the key instead of
/// failing later inside the demo seeder or the replica keeper.
/// </summary>
public sealed class RegistryOptionsValidator : IValidateOptions<RegistryOptions>
{
    private const string Key = $"{RegistryOptions.Section}:{nameof(RegistryOptions.Path)}";

    public ValidateOptionsResult Validate(string? name, RegistryOptions options)
    {
        if (string.IsNullOrWhiteSpace(options.Path) || options.Path.IndexOfAny(System.IO.Path.GetInvalidPathChars()) >= 0)
        {
            return ValidateOptionsResult.Fail($"{Key} must be a folder path (found '{options.Path}').");
        }
        if (!options.IsMlflow && !options.Kind.Equals(RegistryOptions.FolderKind, StringComparison.OrdinalIgnoreCase))
        {
            return ValidateOptionsResult.Fail($"{RegistryOptions.Section}:{nameof(RegistryOptions.Kind)} must be '{RegistryOptions.FolderKind}' or '{RegistryOptions.MlflowKind}' (found '{options.Kind}').");
        }
        if (options.MaxUploadBytes <= 0)
        {
            return ValidateOptionsResult.Fail($"{RegistryOptions.Section}:{nameof(RegistryOptions.MaxUploadBytes)} must be a positive number of bytes (found {options.MaxUploadBytes}).");
        }
        if (options.IsMlflow)
        {
            // Registry:Path is the folder backend's; an MLflow node keeps its files in Registry:Mlflow:CacheDirectory.
            return options.Mlflow.Problems().ToList() is { Count: > 0 } problems ? ValidateOptionsResult.Fail(problems) : ValidateOptionsResult.Success;
        }
        var path = options.FullPath;
        if (File.Exists(path))
        {
            return ValidateOptionsResult.Fail($"{Key} must be a folder, but '{path}' is a file.");
        }
        try
        {
            Directory.CreateDirectory(path);
            using var entries = Directory.EnumerateFileSystemEntries(path).GetEnumerator();
            entries.MoveNext();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return ValidateOptionsResult.Fail($"{Key} must be a folder the node can create and read, but '{path}' is not: {e.Message}");
        }
        return ValidateOptionsResult.Success;
    }
}
