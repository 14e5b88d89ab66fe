using System.Collections.Concurrent;
using System.Text.Json;
using Microsoft.Extensions.Logging;
using Mlops.Stream.Inference.Registry.Internal;

namespace Mlops.Stream.Inference.Registry.Mlflow.Internal;

/// <summary>
/// The versions downloaded from MLflow, kept on local disk as a folder registry
/// (<c>&lt;cache&gt;/&lt;model&gt;/&lt;version&gt;/model.onnx</c> + <c>manifest.json</c>), so a version is
/// downloaded once per node and then opened, checked and verified exactly as the folder registry
/// does it (its sha256 and signature checks, its atomic version folders, its upload files). What
/// arrives is checked before it is kept: the file's sha256 against the version's
/// <see cref="MlflowTags.Sha256"/> tag, and, through the folder registry's registration, that ONNX
/// Runtime loads it, that its signature is the one <see cref="MlflowTags.ManifestFileName"/>
/// declares and that its sample request fits. A version that fails is not kept.
/// </summary>
internal sealed class VersionCache(FolderModelRegistry folder, ArtifactLocator locator, MlflowRestClient client, long maxModelBytes, ILogger logger)
{
    private readonly ConcurrentDictionary<(string, int), SemaphoreSlim> _fetching = new();

    public FolderModelRegistry Folder => folder;

    public bool Contains(string model, int version) =>
        Directory.Exists(Path.Combine(folder.Root, model, version.ToString(System.Globalization.CultureInfo.InvariantCulture)));

    /// <summary>Downloads and keeps <paramref name="version"/> unless it is kept already; one download per version at a time.</summary>
    public async Task EnsureAsync(string model, MlflowVersion version, CancellationToken ct)
    {
        if (Contains(model, version.Number)) return;
        var gate = _fetching.GetOrAdd((model, version.Number), _ => new SemaphoreSlim(1, 1));
        await gate.WaitAsync(ct).ConfigureAwait(false);
        try
        {
            if (Contains(model, version.Number)) return;
            var location = await locator.LocateAsync(model, version.Number, ct).ConfigureAwait(false);
            var declared = location.ManifestPath is { } manifestPath
                ? await client.DownloadAsync(manifestPath, (stream, token) => ReadManifestAsync(stream, location, token), ct).ConfigureAwait(false)
                : null;
            using var upload = await client.DownloadAsync(location.ModelPath,
                (stream, token) => UploadReceiver.ReceiveAsync(folder.Root, stream, maxModelBytes, token), ct).ConfigureAwait(false);
            await StoreAsync(model, version, upload, declared, location.DownloadUri, ct).ConfigureAwait(false);
            logger.LogInformation("Downloaded model {Model} version {Version} from MLflow ({Uri}, {Bytes} bytes, sha256 {Sha256})",
                model, version.Number, location.DownloadUri, upload.Length, upload.Sha256);
        }
        finally
        {
            gate.Release();
        }
    }

    /// <summary>
    /// Keeps <paramref name="upload"/> as <paramref name="version"/> after checking it (the upload is
    /// moved into the cache). A version another process cached meanwhile is taken as it is.
    /// </summary>
    public async Task<ModelManifest> StoreAsync(
        string model, MlflowVersion version, ModelUpload upload, MlflowManifestDocument? declared, string origin, CancellationToken ct)
    {
        if (version.Sha256 is { } expected && !string.Equals(expected, upload.Sha256, StringComparison.OrdinalIgnoreCase))
            throw new ModelRegistryException(ModelRegistryError.ChecksumMismatch,
                $"model '{model}' version {version.Number} from {origin}: sha256 is {upload.Sha256} but the version's tag {MlflowTags.Sha256} records {expected}; " +
                "the artifact was changed or corrupted");
        if (version.Sha256 is null)
            logger.LogWarning("MLflow model {Model} version {Version} has no {Tag} tag: its file is kept with the sha256 it arrived with ({Sha256})",
                model, version.Number, MlflowTags.Sha256, upload.Sha256);

        var registration = (declared?.ToRegistration(model) ?? new ModelRegistration(model, ReadOnlyMemory<byte>.Empty))
            with { Version = version.Number, Created = version.Created };
        try
        {
            return await folder.RegisterVersionAsync(registration, upload, ct).ConfigureAwait(false);
        }
        catch (ModelRegistryException e) when (e.Error == ModelRegistryError.Conflict && Contains(model, version.Number))
        {
            return await folder.GetManifestAsync(model, version.Number, ct).ConfigureAwait(false);
        }
    }

    /// <summary>Forgets a kept version (its file changed on disk, or MLflow's checksum tag changed), so the next use downloads it again.</summary>
    public void Evict(string model, int version)
    {
        var path = Path.Combine(folder.Root, model, version.ToString(System.Globalization.CultureInfo.InvariantCulture));
        var doomed = Path.Combine(folder.Root, model, $".evicted-{version}-{Guid.NewGuid():N}");
        try
        {
            // A rename first, so no reader ever sees half a folder.
            Directory.Move(path, doomed);
            Directory.Delete(doomed, recursive: true);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            logger.LogWarning(e, "Could not drop cached model {Model} version {Version} at {Path}", model, version, path);
        }
    }

    private static async Task<MlflowManifestDocument?> ReadManifestAsync(System.IO.Stream stream, ArtifactLocation location, CancellationToken ct)
    {
        try
        {
            return await JsonSerializer.DeserializeAsync(stream, MlflowManifestJsonContext.Default.MlflowManifestDocument, ct).ConfigureAwait(false);
        }
        catch (Exception e) when (e is JsonException or Wire.InferenceRequestException or InvalidOperationException)
        {
            throw new ModelRegistryException(ModelRegistryError.Corrupt, $"{location.DownloadUri}/{MlflowTags.ManifestFileName} is not a valid manifest: {e.Message}", e);
        }
    }
}
