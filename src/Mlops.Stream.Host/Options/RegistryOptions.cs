using Microsoft.Extensions.Options;

namespace Mlops.Stream.Host.Options;

/// <summary>Section <c>Registry</c>: where models live (the folder backend, the embedded default).</summary>
public sealed class RegistryOptions
{
    public const string Section = "Registry";

    /// <summary>Folder of <c>&lt;model&gt;/&lt;version&gt;/model.onnx</c>, relative to the working directory.</summary>
    public string Path { get; set; } = "registry";

    /// <summary>When the registry holds no model at start, generate and register the demo model.</summary>
    public bool CreateDemoWhenEmpty { get; set; } = true;

    /// <summary>The largest model an upload may hold; larger ones get 413 and nothing is kept.</summary>
    public long MaxUploadBytes { get; set; } = 512L * 1024 * 1024;   // 512 MiB

    public string FullPath => System.IO.Path.GetFullPath(Path);
}

public sealed class RegistryOptionsValidator : IValidateOptions<RegistryOptions>
{
    public ValidateOptionsResult Validate(string? name, RegistryOptions options)
    {
        if (string.IsNullOrWhiteSpace(options.Path) || options.Path.IndexOfAny(System.IO.Path.GetInvalidPathChars()) >= 0)
            return ValidateOptionsResult.Fail($"{RegistryOptions.Section}:{nameof(RegistryOptions.Path)} must be a folder path (found '{options.Path}').");
        if (options.MaxUploadBytes <= 0)
            return ValidateOptionsResult.Fail($"{RegistryOptions.Section}:{nameof(RegistryOptions.MaxUploadBytes)} must be a positive number of bytes (found {options.MaxUploadBytes}).");
        return ValidateOptionsResult.Success;
    }
}
