using System.Runtime.InteropServices;
using System.Security.Cryptography;
using System.Text.Json;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Mlops.Stream.Inference.Onnx;
using Mlops.Stream.Inference.Registry.Internal;
using Mlops.Stream.Inference.Wire;

namespace Mlops.Stream.Inference.Registry;

/// <summary>
/// The embedded registry: a folder laid out as
/// <c>&lt;root&gt;/&lt;model&gt;/&lt;version&gt;/model.onnx</c> + <c>manifest.json</c> (+ <c>reference.csv</c>, the
/// version's reference sample when it has one: the one file of a version that may be replaced) and
/// <c>&lt;root&gt;/&lt;model&gt;/aliases.json</c> (and <c>scale.json</c> once a replica count is set). A version folder is written completely under a
/// hidden temporary name and then renamed into place, and aliases.json is replaced by rename, so
/// readers (other processes included) never see a half-written version or alias file. Within one
/// process, writes are serialized by a lock; across processes a version number taken by another
/// writer is detected by the failing rename and the next number is tried.
/// <para>
/// What is read (manifests, aliases, scale, reference samples) is kept in memory and given again while
/// the file's last-write time and length are unchanged (<see cref="StampedCache{T}"/>), so listing
/// hundreds of models costs a stat per file, not a read and a parse; a file another node writes is
/// seen on the next call, since every write renames a new file into place.
/// </para>
/// </summary>
public sealed class FolderModelRegistry : IModelRegistry
{
    public const string ModelFileName = "model.onnx";
    public const string ManifestFileName = "manifest.json";
    public const string AliasesFileName = "aliases.json";
    public const string ScaleFileName = "scale.json";

    private readonly SemaphoreSlim _writeLock = new(1, 1);
    private readonly ILogger _logger;
    private readonly StampedCache<ModelManifest> _manifests;
    private readonly StampedCache<ModelAliases> _aliases;
    private readonly StampedCache<ModelScale> _scales;
    private readonly StampedCache<ReferenceSample> _samples;
    private readonly StampedCache<IReadOnlyList<string>> _models;
    private readonly StampedCache<IReadOnlyList<int>> _versions;

    /// <param name="clock">The clock that decides when a file has settled (<see cref="StampedCache{T}.SettleTime"/>); tests may move it.</param>
    public FolderModelRegistry(string root, ILogger<FolderModelRegistry>? logger = null, TimeProvider? clock = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(root);
        Root = Path.GetFullPath(root);
        _logger = (ILogger?)logger ?? NullLogger.Instance;
        clock ??= TimeProvider.System;
        // Manifests, aliases and scale are small (a few KB): room for every file of a large registry.
        // Reference samples may be megabytes each: only the drift jobs' few.
        _manifests = new(16_384, clock);
        _aliases = new(16_384, clock);
        _scales = new(16_384, clock);
        _samples = new(64, clock);
        // A folder's last-write time changes when an entry is added, removed or renamed in it, so
        // the model and version listings are kept the same way (the root's, and each model folder's).
        _models = new(1, clock);
        _versions = new(16_384, clock);
    }

    public string Root { get; }

    /// <summary>
    /// How many times this instance read and parsed a registry file (manifest, aliases, scale,
    /// reference sample) or listed a folder instead of answering from memory: a diagnostic of the cache.
    /// </summary>
    public long DiskReads => _manifests.Loads + _aliases.Loads + _scales.Loads + _samples.Loads + _models.Loads + _versions.Loads;

    public IDisposable WatchAliases(Action changed) => new CompositeWatch(
        AliasesWatcher.Start(Root, AliasesFileName, changed, _logger),
        AliasesWatcher.Start(Root, ScaleFileName, changed, _logger));

    public async Task<IReadOnlyList<string>> ListModelsAsync(CancellationToken cancellationToken = default) =>
        await _models.GetAsync(new DirectoryInfo(Root), () => Task.FromResult<IReadOnlyList<string>?>(ModelsIn(Root))).ConfigureAwait(false) ?? [];

    public async Task<IReadOnlyList<int>> ListVersionsAsync(string model, CancellationToken cancellationToken = default)
    {
        var modelDirectory = ModelDirectory(model);
        return await _versions.GetAsync(new DirectoryInfo(modelDirectory), () => Task.FromResult<IReadOnlyList<int>?>(VersionsIn(modelDirectory).AsReadOnly()))
            .ConfigureAwait(false) ?? [];
    }

    public async Task<ModelManifest> GetManifestAsync(string model, int version, CancellationToken cancellationToken = default)
    {
        var versionDirectory = VersionDirectory(model, version);
        var path = Path.Combine(versionDirectory, ManifestFileName);
        var manifest = await _manifests.GetFileAsync(path, bytes => ParseManifest(path, bytes, model, version), cancellationToken).ConfigureAwait(false);
        return manifest ?? throw new ModelRegistryException(ModelRegistryError.NotFound, Directory.Exists(versionDirectory)
            ? $"{path}: file is missing"
            : $"model '{model}' has no version {version} (no folder {versionDirectory})");
    }

    public async Task<ModelAliases> GetAliasesAsync(string model, CancellationToken cancellationToken = default)
    {
        var path = Path.Combine(ModelDirectory(model), AliasesFileName);
        return await _aliases.GetFileAsync(path, bytes => ParseAliases(path, bytes), cancellationToken).ConfigureAwait(false)
            ?? ModelAliases.Empty;
    }

    private static ModelAliases ParseAliases(string path, byte[] bytes)
    {
        try
        {
            return JsonSerializer.Deserialize(bytes, RegistryJsonContext.Default.ModelAliases)
                ?? throw new JsonException("the file holds null");
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException)
        {
            throw new ModelRegistryException(ModelRegistryError.Corrupt, $"{path}: not a valid aliases file: {e.Message}", e);
        }
    }

    public async Task SetAliasesAsync(string model, ModelAliases aliases, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(aliases);
        await _writeLock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            await WriteAliasesAsync(model, aliases, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            _writeLock.Release();
        }
    }

    public Task<ModelAliases> SetAliasAsync(string model, string alias, AliasTarget? target, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(alias);
        return UpdateAliasesAsync(model, current => target is null ? current.Without(alias) : current.With(alias, target), cancellationToken);
    }

    public async Task<ModelAliases> UpdateAliasesAsync(string model, Func<ModelAliases, ModelAliases> update, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(update);
        await _writeLock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            var current = await GetAliasesAsync(model, cancellationToken).ConfigureAwait(false);
            var updated = update(current);
            // An update that keeps the aliases as they are (a compare-and-set that did not match, an
            // idempotent change) writes nothing, so watchers are not woken for nothing.
            if (ReferenceEquals(updated, current))
            {
                return current;
            }

            await WriteAliasesAsync(model, updated, cancellationToken).ConfigureAwait(false);
            return updated;
        }
        finally
        {
            _writeLock.Release();
        }
    }

    public async Task<ModelScale?> GetScaleAsync(string model, CancellationToken cancellationToken = default)
    {
        var path = Path.Combine(ModelDirectory(model), ScaleFileName);
        return await _scales.GetFileAsync(path, bytes => ParseScale(path, bytes), cancellationToken).ConfigureAwait(false);
    }

    private static ModelScale ParseScale(string path, byte[] bytes)
    {
        try
        {
            var scale = JsonSerializer.Deserialize(bytes, RegistryJsonContext.Default.ModelScale) ?? throw new JsonException("the file holds null");
            return scale.Problem() is { } problem ? throw new JsonException(problem) : scale;
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException)
        {
            throw new ModelRegistryException(ModelRegistryError.Corrupt, $"{path}: not a valid scale file: {e.Message}", e);
        }
    }

    public async Task SetScaleAsync(string model, ModelScale? scale, CancellationToken cancellationToken = default)
    {
        if (scale?.Problem() is { } problem)
        {
            throw new ModelRegistryException(ModelRegistryError.Invalid, problem);
        }

        var modelDirectory = ModelDirectory(model);
        if (!Directory.Exists(modelDirectory) || VersionsIn(modelDirectory).Count == 0)
        {
            throw new ModelRegistryException(ModelRegistryError.NotFound, $"model '{model}' has no versions");
        }

        var path = Path.Combine(modelDirectory, ScaleFileName);
        if (scale is null)
        {
            File.Delete(path);
        }
        else
        {
            await AtomicFile.WriteAsync(path, JsonSerializer.SerializeToUtf8Bytes(scale, RegistryJsonContext.Default.ModelScale), cancellationToken)
                .ConfigureAwait(false);
        }

        _scales.Forget(path);

        _logger.LogInformation("Model {Model} scale set to {Scale}", model, scale?.ToString() ?? "one replica per node");
    }

    public async Task<ModelManifest> RegisterVersionAsync(ModelRegistration registration, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(registration);
        VersionChecks.CheckRegistration(registration);
        // One path for bytes and uploads: the bytes become an upload, which is then registered.
        using var upload = await ReceiveUploadAsync(AsStream(registration.OnnxModel), long.MaxValue, cancellationToken).ConfigureAwait(false);
        return await RegisterVersionAsync(registration, upload, cancellationToken).ConfigureAwait(false);
    }

    public Task<ModelUpload> ReceiveUploadAsync(System.IO.Stream content, long maxBytes, CancellationToken cancellationToken = default) =>
        UploadReceiver.ReceiveAsync(Root, content, maxBytes, cancellationToken);

    public async Task<ModelManifest> RegisterVersionAsync(ModelRegistration registration, ModelUpload upload, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(registration);
        ArgumentNullException.ThrowIfNull(upload);
        VersionChecks.CheckRegistration(registration);
        var modelDirectory = ModelDirectory(registration.Model);
        var signature = VersionChecks.CheckModel(registration, upload.Path);
        registration = VersionChecks.WithReference(registration, signature);
        await _writeLock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            Directory.CreateDirectory(modelDirectory);
            var staging = Path.Combine(modelDirectory, $".staging-{Guid.NewGuid():N}");
            Directory.CreateDirectory(staging);
            try
            {
                // A rename (the upload lies in the registry), however large the model.
                File.Move(upload.Path, Path.Combine(staging, ModelFileName));
                if (registration.ReferenceSample is { } sample)
                {
                    await AtomicFile.WriteNewAsync(Path.Combine(staging, ReferenceSample.FileName), sample.ToCsv(), cancellationToken).ConfigureAwait(false);
                }

                // Another process may take a number between listing and renaming; the rename then
                // fails and, when the caller did not ask for a specific version, the next is tried.
                for (var attempt = 0; ; attempt++)
                {
                    var version = registration.Version ?? (VersionsIn(modelDirectory).LastOrDefault() + 1);
                    var manifest = new ModelManifest(registration)
                    {
                        Name = registration.Model,
                        Version = version,
                        Created = registration.Created ?? DateTimeOffset.UtcNow,
                        Sha256 = upload.Sha256,
                        Inputs = signature.Inputs,
                        Outputs = signature.Outputs,
                    };
                    var manifestBytes = JsonSerializer.SerializeToUtf8Bytes(manifest, RegistryJsonContext.Default.ModelManifest);
                    await AtomicFile.WriteAsync(Path.Combine(staging, ManifestFileName), manifestBytes, cancellationToken).ConfigureAwait(false);
                    var target = Path.Combine(modelDirectory, version.ToString(System.Globalization.CultureInfo.InvariantCulture));
                    if (!Directory.Exists(target))
                    {
                        try
                        {
                            Directory.Move(staging, target);
                            _logger.LogInformation("Registered model {Model} version {Version} (sha256 {Sha256})", manifest.Name, version, manifest.Sha256);
                            return manifest;
                        }
                        catch (IOException) when (Directory.Exists(target))
                        {
                            // Lost the race for this number; fall through.
                        }
                    }

                    if (registration.Version is not null || attempt >= 10)
                    {
                        throw new ModelRegistryException(
                            ModelRegistryError.Conflict, $"model '{registration.Model}' version {version} already exists ({target})");
                    }
                }
            }
            finally
            {
                if (Directory.Exists(staging))
                {
                    Directory.Delete(staging, recursive: true);
                }
            }
        }
        finally
        {
            _writeLock.Release();
        }
    }

    public async Task<ModelArtifacts> OpenVersionAsync(string model, int version, CancellationToken cancellationToken = default)
    {
        var (manifest, modelPath) = await FindVersionAsync(model, version, cancellationToken).ConfigureAwait(false);
        var bytes = await VersionChecks.ReadOrNotFoundAsync(modelPath, () => File.ReadAllBytesAsync(modelPath, cancellationToken)).ConfigureAwait(false);
        VersionChecks.Verify(manifest, modelPath, ModelManifest.Sha256Of(bytes), () => OnnxSignature.Read(bytes, modelPath));
        return new ModelArtifacts(manifest, bytes, modelPath);
    }

    public async Task<ModelManifest> VerifyVersionAsync(string model, int version, CancellationToken cancellationToken = default)
    {
        var (manifest, modelPath) = await FindVersionAsync(model, version, cancellationToken).ConfigureAwait(false);
        var sha256 = await VersionChecks.ReadOrNotFoundAsync(modelPath, async () =>
        {
            await using var file = new FileStream(modelPath, FileMode.Open, FileAccess.Read, FileShare.Read, UploadReceiver.BufferBytes, FileOptions.Asynchronous);
            return Convert.ToHexStringLower(await SHA256.HashDataAsync(file, cancellationToken).ConfigureAwait(false));
        }).ConfigureAwait(false);
        VersionChecks.Verify(manifest, modelPath, sha256, () => OnnxSignature.Read(modelPath));
        return manifest;
    }

    public async Task<ReferenceSample?> GetReferenceSampleAsync(string model, int version, CancellationToken cancellationToken = default)
    {
        var path = Path.Combine(VersionDirectory(model, version), ReferenceSample.FileName);
        // Drift jobs ask again and again (to notice a new baseline): parsed only when the file changed.
        return await _samples.GetFileAsync(path, bytes => ParseSample(path, bytes), cancellationToken).ConfigureAwait(false);
    }

    private static ReferenceSample ParseSample(string path, byte[] bytes)
    {
        try
        {
            return ReferenceSample.ParseCsv(bytes);
        }
        catch (ReferenceSampleException e)
        {
            throw new ModelRegistryException(ModelRegistryError.Corrupt, $"{path}: not a valid reference sample: {e.Message}", e);
        }
    }

    public async Task SetReferenceSampleAsync(string model, int version, ReferenceSample sample, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(sample);
        var manifest = await GetManifestAsync(model, version, cancellationToken).ConfigureAwait(false);
        if (sample.ProblemFor(manifest.Signature, manifest.FeatureNames) is { } problem)
        {
            throw new ModelRegistryException(ModelRegistryError.Invalid, $"model '{model}' version {version}: the reference sample does not fit: {problem}");
        }

        var path = Path.Combine(VersionDirectory(model, version), ReferenceSample.FileName);
        await AtomicFile.WriteAsync(path, sample.ToCsv(), cancellationToken).ConfigureAwait(false);
        _samples.Forget(path);
        _logger.LogInformation("Model {Model} version {Version}: reference sample set ({Rows} rows of {Features} features)", model, version, sample.Rows, sample.Features.Length);
    }

    private async Task<(ModelManifest Manifest, string ModelPath)> FindVersionAsync(string model, int version, CancellationToken cancellationToken)
    {
        var manifest = await GetManifestAsync(model, version, cancellationToken).ConfigureAwait(false);
        return (manifest, Path.Combine(VersionDirectory(model, version), ModelFileName));
    }

    private static MemoryStream AsStream(ReadOnlyMemory<byte> bytes) =>
        MemoryMarshal.TryGetArray(bytes, out var segment)
            ? new MemoryStream(segment.Array!, segment.Offset, segment.Count, writable: false)
            : new MemoryStream(bytes.ToArray(), writable: false);

    private async Task WriteAliasesAsync(string model, ModelAliases aliases, CancellationToken cancellationToken)
    {
        var modelDirectory = ModelDirectory(model);
        var versions = Directory.Exists(modelDirectory) ? VersionsIn(modelDirectory) : [];
        foreach (var (alias, target) in aliases.Entries)
        {
            if (!IsValidName(alias))
            {
                throw new ModelRegistryException(ModelRegistryError.Invalid, $"alias '{alias}' is not a valid name");
            }

            if (!versions.Contains(target.Version))
            {
                throw new ModelRegistryException(
                    ModelRegistryError.Conflict, $"alias '{alias}' points at model '{model}' version {target.Version}, which does not exist");
            }

            if (target.Weight is { } weight && !(weight is >= 0 and <= 1))
            {
                throw new ModelRegistryException(ModelRegistryError.Invalid, $"alias '{alias}' has weight {weight}; weights lie in [0, 1]");
            }
        }

        var bytes = JsonSerializer.SerializeToUtf8Bytes(aliases, RegistryJsonContext.Default.ModelAliases);
        var path = Path.Combine(modelDirectory, AliasesFileName);
        await AtomicFile.WriteAsync(path, bytes, cancellationToken).ConfigureAwait(false);
        _aliases.Forget(path);
        _logger.LogInformation("Model {Model} aliases set to {Aliases}", model, aliases);
    }

    private static ModelManifest ParseManifest(string path, byte[] bytes, string model, int version)
    {
        ModelManifest manifest;
        try
        {
            manifest = JsonSerializer.Deserialize(bytes, RegistryJsonContext.Default.ModelManifest)
                ?? throw new JsonException("the file holds null");
        }
        catch (Exception e) when (e is JsonException or InferenceRequestException or InvalidOperationException)
        {
            throw new ModelRegistryException(ModelRegistryError.Corrupt, $"{path}: not a valid manifest: {e.Message}", e);
        }

        if (manifest.Name != model || manifest.Version != version)
        {
            throw new ModelRegistryException(
                ModelRegistryError.Corrupt,
                $"{path}: describes model '{manifest.Name}' version {manifest.Version}, but lies in the folder of '{model}' version {version}");
        }

        return manifest;
    }

    /// <summary>The model folders in <paramref name="root"/>; null when it is gone.</summary>
    private static IReadOnlyList<string>? ModelsIn(string root)
    {
        try
        {
            return Directory.EnumerateDirectories(root)
                .Select(Path.GetFileName)
                .OfType<string>()
                .Where(IsValidName)
                .Order(StringComparer.Ordinal)
                .ToList()
                .AsReadOnly();
        }
        catch (DirectoryNotFoundException)
        {
            return null;
        }
    }

    private static List<int> VersionsIn(string modelDirectory) =>
        [.. Directory.EnumerateDirectories(modelDirectory)
            .Select(Path.GetFileName)
            .Select(name => int.TryParse(name, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var v) ? v : 0)
            .Where(v => v > 0)
            .Order()];

    private string ModelDirectory(string model)
    {
        if (!IsValidName(model))
        {
            throw new ModelRegistryException(
                ModelRegistryError.Invalid,
                ModelName.ExistingProblem(model)!);
        }

        return Path.Combine(Root, model);
    }

    private string VersionDirectory(string model, int version)
    {
        if (version <= 0)
        {
            throw new ModelRegistryException(ModelRegistryError.Invalid, $"version must be positive, was {version}");
        }

        return Path.Combine(ModelDirectory(model), version.ToString(System.Globalization.CultureInfo.InvariantCulture));
    }

    /// <summary>Names double as folder names, so nothing that could escape the root or hide as a dot-file.</summary>
    /// <summary>Model and alias names: <see cref="ModelName.IsValidExisting"/>, the one rule of every backend (never a path out of the folder).</summary>
    private static bool IsValidName(string? name) => ModelName.IsValidExisting(name);

    private sealed class CompositeWatch(params IDisposable[] watches) : IDisposable
    {
        public void Dispose()
        {
            foreach (var watch in watches) watch.Dispose();
        }
    }
}
