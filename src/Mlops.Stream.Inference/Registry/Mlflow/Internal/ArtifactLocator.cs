using System.Text;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace Mlops.Stream.Inference.Registry.Mlflow.Internal;

/// <summary>Where a version's files are in MLflow's artifact proxy: its folder, the ONNX file, and our manifest if it has one.</summary>
internal sealed record ArtifactLocation(string DownloadUri, string ModelPath, string? ManifestPath);

/// <summary>
/// Finds a version's ONNX file: model-versions/get-download-uri gives the logged model's folder,
/// which must be one the tracking server proxies (<c>mlflow-artifacts:/...</c>, the default of
/// <c>mlflow server</c> since 2.0); the folder is listed through the proxy, and the ONNX file is the
/// one the <c>MLmodel</c> file's <c>onnx</c> flavor names (its <c>data</c>), else the folder's only
/// <c>.onnx</c> file.
/// </summary>
internal sealed class ArtifactLocator(MlflowRestClient client)
{
    private const int MaxMlmodelBytes = 1024 * 1024;

    public async Task<ArtifactLocation> LocateAsync(string model, int version, CancellationToken ct)
    {
        var uri = await client.GetDownloadUriAsync(model, version, ct).ConfigureAwait(false);
        var folder = ProxiedPath(uri) ?? throw new ModelRegistryException(ModelRegistryError.Invalid,
            $"model '{model}' version {version}: its artifacts are at '{uri}', which this node cannot read; it downloads only through " +
            "MLflow's artifact proxy (mlflow-artifacts:/..., 'mlflow server' with --serve-artifacts, the default since MLflow 2.0)");
        var files = (await client.ListArtifactsAsync(folder, ct).ConfigureAwait(false))
            .Where(f => f.IsDir != true)
            .Select(f => f.Path[(f.Path.LastIndexOf('/') + 1)..])
            .ToHashSet(StringComparer.Ordinal);
        if (files.Count == 0)
            throw new ModelRegistryException(ModelRegistryError.NotFound, $"model '{model}' version {version}: no files at {uri}");

        string onnx;
        if (files.Contains(MlflowTags.MlmodelFileName))
        {
            var text = await client.DownloadAsync($"{folder}/{MlflowTags.MlmodelFileName}", ReadSmallTextAsync, ct).ConfigureAwait(false);
            onnx = OnnxDataOf(text, $"{uri}/{MlflowTags.MlmodelFileName}");
        }
        else
        {
            var candidates = files.Where(f => f.EndsWith(".onnx", StringComparison.OrdinalIgnoreCase)).Order(StringComparer.Ordinal).ToList();
            onnx = candidates.Count == 1
                ? candidates[0]
                : throw new ModelRegistryException(ModelRegistryError.Invalid,
                    $"model '{model}' version {version}: {uri} has {(candidates.Count == 0 ? "no .onnx file" : "several .onnx files (" + string.Join(", ", candidates) + ")")} " +
                    $"and no {MlflowTags.MlmodelFileName} naming one");
        }

        return new ArtifactLocation(uri, $"{folder}/{onnx}",
            files.Contains(MlflowTags.ManifestFileName) ? $"{folder}/{MlflowTags.ManifestFileName}" : null);
    }

    /// <summary>
    /// The path below the artifact proxy's root of a <c>mlflow-artifacts:/path</c> or
    /// <c>mlflow-artifacts://host:port/path</c> URI; null for any other scheme (s3://, file:, ...).
    /// </summary>
    public static string? ProxiedPath(string uri) =>
        Uri.TryCreate(uri, UriKind.Absolute, out var parsed) && parsed.Scheme == "mlflow-artifacts" && parsed.AbsolutePath.Trim('/') is { Length: > 0 } path
            ? Uri.UnescapeDataString(path)
            : null;

    /// <summary>The <c>data</c> of the <c>onnx</c> flavor in an MLmodel file (YAML, written by MLflow's <c>Model.save</c>).</summary>
    public static string OnnxDataOf(string mlmodel, string origin)
    {
        try
        {
            var yaml = new YamlStream();
            yaml.Load(new StringReader(mlmodel));
            if (yaml.Documents.FirstOrDefault()?.RootNode is YamlMappingNode root
                && Child(root, "flavors") is YamlMappingNode flavors)
            {
                if (Child(flavors, "onnx") is YamlMappingNode onnx && Child(onnx, "data") is YamlScalarNode { Value: { Length: > 0 } data })
                    return data.Trim('/');
                var names = string.Join(", ", flavors.Children.Keys.OfType<YamlScalarNode>().Select(k => k.Value));
                throw new ModelRegistryException(ModelRegistryError.Invalid, $"{origin} has no onnx flavor naming a file (flavors: {names}); only ONNX models serve");
            }
            throw new ModelRegistryException(ModelRegistryError.Invalid, $"{origin} has no flavors");
        }
        catch (YamlException e)
        {
            throw new ModelRegistryException(ModelRegistryError.Corrupt, $"{origin} is not valid YAML: {e.Message}", e);
        }
    }

    private static YamlNode? Child(YamlMappingNode node, string key) =>
        node.Children.TryGetValue(new YamlScalarNode(key), out var child) ? child : null;

    private static async Task<string> ReadSmallTextAsync(System.IO.Stream stream, CancellationToken ct)
    {
        using var buffer = new MemoryStream();
        var chunk = new byte[81920];
        int read;
        while ((read = await stream.ReadAsync(chunk, ct).ConfigureAwait(false)) > 0)
        {
            if (buffer.Length + read > MaxMlmodelBytes)
                throw new ModelRegistryException(ModelRegistryError.Invalid, $"an {MlflowTags.MlmodelFileName} file larger than {MaxMlmodelBytes} bytes");
            buffer.Write(chunk, 0, read);
        }
        return Encoding.UTF8.GetString(buffer.GetBuffer(), 0, (int)buffer.Length);
    }
}
