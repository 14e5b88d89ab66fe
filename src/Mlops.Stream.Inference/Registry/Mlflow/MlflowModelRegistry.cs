using System.Collections.Immutable;
using System.Security.Cryptography;
using System.Text.Json;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Mlops.Stream.Inference.Registry.Internal;
using Mlops.Stream.Inference.Registry.Mlflow.Internal;

namespace Mlops.Stream.Inference.Registry.Mlflow;

/// <summary>
/// The model registry kept in MLflow's Model Registry, through its REST API. Models are MLflow
/// registered models and versions are their model versions; what serves comes from an alias
/// (MLflow 2.x) or the <c>Production</c> stage (<see cref="MlflowServingSource"/>). What MLflow has
/// no place for is kept in MLflow too, as tags (<see cref="MlflowTags"/>): a canary's weight and a
/// version's sha256 as model-version tags, the replica count as a registered-model tag, and in stage
/// mode our other aliases as registered-model tags. So every node reads the same state.
/// <para>
/// Reads answer from a snapshot of MLflow's state (<see cref="RefreshAsync"/>, called by the node's
/// poller every poll interval), never from a call per read: the request path and readiness do no
/// I/O, and when MLflow is down the node keeps the last state it read, serves what it has, and
/// reports the outage through <see cref="Reachability"/>. Versions are downloaded once through
/// MLflow's artifact proxy into a local cache (<see cref="MlflowRegistrySettings.CacheDirectory"/>),
/// checked there as the folder registry checks its own (sha256 against the version's tag, ONNX
/// Runtime loads it, signature) and opened from there, also while MLflow is down.
/// </para>
/// <para>
/// Changes (aliases, scale, registrations) are written to MLflow at once and then read back into
/// the snapshot; within a process they are serialized with the polls, so a poll never undoes a
/// change it started before. Across nodes MLflow offers no compare-and-set: two operators changing
/// one model's aliases at the same moment through two nodes may interleave, as with two people
/// moving aliases in MLflow's UI.
/// </para>
/// </summary>
public sealed class MlflowModelRegistry : IModelRegistry, IRegistryReachability, IDisposable
{
    private readonly MlflowRegistrySettings _settings;
    private readonly HttpClient _http;
    private readonly bool _ownsHttp;
    private readonly ILogger _logger;
    private readonly ReachabilityTracker _tracker;
    private readonly MlflowRestClient _client;
    private readonly AliasConvention _aliases;
    private readonly SnapshotReader _reader;
    private readonly VersionCache _cache;
    private readonly SemaphoreSlim _gate = new(1, 1);
    private readonly object _watchersLock = new();
    private ImmutableList<Action> _watchers = [];
    private volatile RegistrySnapshot? _snapshot;

    /// <param name="http">The client to call MLflow with (tests); by default one of its own.</param>
    public MlflowModelRegistry(MlflowRegistrySettings settings, ILoggerFactory? loggers = null, HttpClient? http = null, TimeProvider? clock = null)
    {
        ArgumentNullException.ThrowIfNull(settings);
        _settings = settings;
        _ownsHttp = http is null;
        _http = http ?? new HttpClient(new SocketsHttpHandler { PooledConnectionLifetime = TimeSpan.FromMinutes(5) });
        loggers ??= NullLoggerFactory.Instance;
        _logger = loggers.CreateLogger<MlflowModelRegistry>();
        _tracker = new ReachabilityTracker(settings.TrackingUri.ToString(), clock ?? TimeProvider.System);
        _client = new MlflowRestClient(_http, settings, _tracker);
        _aliases = AliasConvention.For(settings);
        _reader = new SnapshotReader(_client, _aliases, _logger);
        _cache = new VersionCache(new FolderModelRegistry(settings.CacheDirectory, loggers.CreateLogger<FolderModelRegistry>()),
            new ArtifactLocator(_client), _client, settings.MaxModelBytes, _logger);
    }

    public MlflowRegistrySettings Settings => _settings;

    public RegistryReachability Reachability => _tracker.Current;

    /// <summary>
    /// Reads MLflow's state into the snapshot the reads answer from, and tells the watchers when
    /// anything they follow (versions, aliases, scale) changed. On failure the snapshot stays as it
    /// was and the <see cref="ModelRegistryError.Unavailable"/> (or other) error is thrown.
    /// </summary>
    public async Task RefreshAsync(CancellationToken cancellationToken = default)
    {
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            await RefreshUnderGateAsync(cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            _gate.Release();
        }
    }

    public IDisposable WatchAliases(Action changed)
    {
        ArgumentNullException.ThrowIfNull(changed);
        lock (_watchersLock) _watchers = _watchers.Add(changed);
        return new Unwatch(() =>
        {
            lock (_watchersLock) _watchers = _watchers.Remove(changed);
        });
    }

    public async Task<IReadOnlyList<string>> ListModelsAsync(CancellationToken cancellationToken = default) =>
        [.. (await SnapshotAsync(cancellationToken).ConfigureAwait(false)).Models.Keys];

    public async Task<IReadOnlyList<int>> ListVersionsAsync(string model, CancellationToken cancellationToken = default) =>
        (await SnapshotAsync(cancellationToken).ConfigureAwait(false)).Models.TryGetValue(model, out var state) ? [.. state.Versions.Keys] : [];

    public async Task<ModelAliases> GetAliasesAsync(string model, CancellationToken cancellationToken = default) =>
        (await SnapshotAsync(cancellationToken).ConfigureAwait(false)).Models.TryGetValue(model, out var state) ? state.Aliases : ModelAliases.Empty;

    public async Task<ModelScale?> GetScaleAsync(string model, CancellationToken cancellationToken = default) =>
        (await SnapshotAsync(cancellationToken).ConfigureAwait(false)).Models.TryGetValue(model, out var state) ? state.Scale : null;

    /// <summary>The version's manifest; a version not downloaded yet is downloaded (and checked) first, since its inputs and outputs come from its files.</summary>
    public Task<ModelManifest> GetManifestAsync(string model, int version, CancellationToken cancellationToken = default) =>
        FromCacheAsync(model, version, () => _cache.Folder.GetManifestAsync(model, version, cancellationToken), cancellationToken);

    public Task<ModelArtifacts> OpenVersionAsync(string model, int version, CancellationToken cancellationToken = default) =>
        FromCacheAsync(model, version, () => _cache.Folder.OpenVersionAsync(model, version, cancellationToken), cancellationToken);

    public Task<ModelManifest> VerifyVersionAsync(string model, int version, CancellationToken cancellationToken = default) =>
        FromCacheAsync(model, version, () => _cache.Folder.VerifyVersionAsync(model, version, cancellationToken), cancellationToken);

    public async Task SetAliasesAsync(string model, ModelAliases aliases, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(aliases);
        await UpdateAliasesAsync(model, _ => aliases, cancellationToken).ConfigureAwait(false);
    }

    public Task<ModelAliases> SetAliasAsync(string model, string alias, AliasTarget? target, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(alias);
        return UpdateAliasesAsync(model, current => target is null ? current.Without(alias) : current.With(alias, target), cancellationToken);
    }

    /// <summary>
    /// Reads the model's aliases fresh from MLflow (not from the snapshot), applies
    /// <paramref name="update"/> and writes what changed (see <see cref="AliasConvention.WriteAsync"/>),
    /// serialized with this node's other changes and polls.
    /// </summary>
    public async Task<ModelAliases> UpdateAliasesAsync(string model, Func<ModelAliases, ModelAliases> update, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(update);
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            var current = await _reader.ReadModelAsync(model, cancellationToken).ConfigureAwait(false);
            var updated = update(current.Aliases);
            if (ReferenceEquals(updated, current.Aliases)) return current.Aliases;
            Validate(model, updated, current);
            await _aliases.WriteAsync(_client, model, current.Aliases, updated, cancellationToken).ConfigureAwait(false);
            _logger.LogInformation("Model {Model} aliases set to {Aliases} in MLflow", model, updated);
            await ReadBackAsync(model, cancellationToken).ConfigureAwait(false);
            return updated;
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>Kept as the registered-model tag <see cref="MlflowTags.Scale"/> (the folder registry's scale.json, as JSON).</summary>
    public async Task SetScaleAsync(string model, ModelScale? scale, CancellationToken cancellationToken = default)
    {
        if (scale?.Problem() is { } problem) throw new ModelRegistryException(ModelRegistryError.Invalid, problem);
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            var current = await _reader.ReadModelAsync(model, cancellationToken).ConfigureAwait(false);
            if (current.Versions.Count == 0) throw new ModelRegistryException(ModelRegistryError.NotFound, $"model '{model}' has no versions in MLflow");
            if (scale is null)
            {
                if (current.Scale is not null) await _client.DeleteRegisteredModelTagAsync(model, MlflowTags.Scale, cancellationToken).ConfigureAwait(false);
            }
            else
            {
                var json = JsonSerializer.Serialize(scale, RegistryJsonContext.Default.ModelScale);
                await _client.SetRegisteredModelTagAsync(model, MlflowTags.Scale, json, cancellationToken).ConfigureAwait(false);
            }
            _logger.LogInformation("Model {Model} scale set to {Scale} in MLflow", model, scale?.ToString() ?? "one replica per node");
            await ReadBackAsync(model, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            _gate.Release();
        }
    }

    public async Task<ModelManifest> RegisterVersionAsync(ModelRegistration registration, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(registration);
        VersionChecks.CheckRegistration(registration);
        await using var bytes = new MemoryStream(registration.OnnxModel.ToArray(), writable: false);
        using var upload = await ReceiveUploadAsync(bytes, long.MaxValue, cancellationToken).ConfigureAwait(false);
        return await RegisterVersionAsync(registration, upload, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Into a temporary file of the local cache, so a registered upload becomes the cached version by a rename.</summary>
    public Task<ModelUpload> ReceiveUploadAsync(System.IO.Stream content, long maxBytes, CancellationToken cancellationToken = default) =>
        UploadReceiver.ReceiveAsync(_cache.Folder.Root, content, maxBytes, cancellationToken);

    /// <summary>
    /// Registers in MLflow: checks the model as the folder registry does, creates the registered
    /// model if need be, uploads the ONNX file and <see cref="MlflowTags.ManifestFileName"/> through
    /// the artifact proxy (PUT) to a folder of their own below <see cref="MlflowRegistrySettings.ArtifactPath"/>,
    /// and creates a model version whose source is that folder, tagged with the file's sha256. MLflow
    /// numbers the version, so a registration may not name one. The upload becomes the cached version.
    /// </summary>
    public async Task<ModelManifest> RegisterVersionAsync(ModelRegistration registration, ModelUpload upload, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(registration);
        ArgumentNullException.ThrowIfNull(upload);
        VersionChecks.CheckRegistration(registration);
        if (registration.ReferenceSample is not null)
        {
            // Not yet: it would be a second artifact of the version's run, and baselines would need to replace it.
            throw new ModelRegistryException(ModelRegistryError.Invalid,
                "the MLflow registry does not store reference samples yet; register without a reference sample (drift is then judged against the manifest's profile), or use the folder registry");
        }

        var signature = VersionChecks.CheckModel(registration, upload.Path);
        var model = registration.Model;
        if (registration.Version is { } asked)
        {
            // MLflow numbers versions itself (max + 1); a registration may only name that number.
            var next = (await _reader.ReadModelAsync(model, cancellationToken).ConfigureAwait(false)).Versions.Keys.LastOrDefault() + 1;
            if (asked != next)
                throw new ModelRegistryException(asked < next ? ModelRegistryError.Conflict : ModelRegistryError.Invalid,
                    $"model '{model}' version {asked} cannot be registered: MLflow numbers versions itself and would make this version {next}");
        }

        try
        {
            await _client.CreateRegisteredModelAsync(model, cancellationToken).ConfigureAwait(false);
        }
        catch (ModelRegistryException e) when (e.Error == ModelRegistryError.Conflict)
        {
            // RESOURCE_ALREADY_EXISTS: the model has versions already.
        }

        var folder = $"{_settings.ArtifactPath.Trim('/')}/{model}/{Guid.NewGuid():N}";
        var declared = new MlflowManifestDocument(registration, signature);
        await using (var file = new FileStream(upload.Path, FileMode.Open, FileAccess.Read, FileShare.Read, 81920, FileOptions.Asynchronous))
            await _client.UploadAsync($"{folder}/{FolderModelRegistry.ModelFileName}", file, cancellationToken).ConfigureAwait(false);
        await using (var manifest = new MemoryStream(JsonSerializer.SerializeToUtf8Bytes(declared, MlflowManifestJsonContext.Default.MlflowManifestDocument)))
            await _client.UploadAsync($"{folder}/{MlflowTags.ManifestFileName}", manifest, cancellationToken).ConfigureAwait(false);

        var created = await _client.CreateModelVersionAsync(new CreateModelVersionRequest(model, $"mlflow-artifacts:/{folder}",
            [new MlflowTag(MlflowTags.Sha256, upload.Sha256)], registration.Description), cancellationToken).ConfigureAwait(false);
        if (!int.TryParse(created.Version, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var number))
            throw new ModelRegistryException(ModelRegistryError.Corrupt, $"MLflow model-versions/create answered version '{created.Version}', not a number");
        var version = new MlflowVersion(number, DateTimeOffset.FromUnixTimeMilliseconds(created.CreationTimestamp ?? DateTimeOffset.UtcNow.ToUnixTimeMilliseconds()),
            created.CurrentStage, ImmutableDictionary<string, string>.Empty.Add(MlflowTags.Sha256, upload.Sha256));
        var stored = await _cache.StoreAsync(model, version, upload, declared, $"mlflow-artifacts:/{folder}", cancellationToken).ConfigureAwait(false);
        _logger.LogInformation("Registered model {Model} version {Version} in MLflow (mlflow-artifacts:/{Folder}, sha256 {Sha256})", model, number, folder, upload.Sha256);

        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            await ReadBackAsync(model, cancellationToken).ConfigureAwait(false);
        }
        catch (ModelRegistryException e) when (e.Error == ModelRegistryError.Unavailable)
        {
            _logger.LogWarning("Registered model {Model} version {Version} but could not read it back from MLflow; the next poll will: {Error}", model, number, e.Message);
        }
        finally
        {
            _gate.Release();
        }
        return stored;
    }

    public void Dispose()
    {
        if (_ownsHttp) _http.Dispose();
        _gate.Dispose();
    }

    private async Task<RegistrySnapshot> SnapshotAsync(CancellationToken cancellationToken)
    {
        if (_snapshot is { } snapshot) return snapshot;
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            return _snapshot ?? await RefreshUnderGateAsync(cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            _gate.Release();
        }
    }

    private async Task<RegistrySnapshot> RefreshUnderGateAsync(CancellationToken cancellationToken)
    {
        var read = await _reader.ReadAsync(cancellationToken).ConfigureAwait(false);
        var before = _snapshot;
        _snapshot = read;
        _tracker.StateRead();
        if (before is null || before.Fingerprint != read.Fingerprint) Notify();
        return read;
    }

    /// <summary>After a change: the model as MLflow now holds it goes into the snapshot, and the watchers are told.</summary>
    private async Task ReadBackAsync(string model, CancellationToken cancellationToken)
    {
        var state = await _reader.ReadModelAsync(model, cancellationToken).ConfigureAwait(false);
        if (_snapshot is { } snapshot) _snapshot = snapshot.With(state);
        Notify();
    }

    /// <summary>
    /// Runs <paramref name="read"/> on the cached copy of the version, downloading it first when it
    /// is not cached. A cached copy whose checksum tag changed in MLflow, or that fails its checks on
    /// disk, is dropped and downloaded once more. While MLflow cannot be reached, a cached version
    /// still opens: a node never stops serving, or refuses to restart a replica, because MLflow is down.
    /// </summary>
    private async Task<T> FromCacheAsync<T>(string model, int version, Func<Task<T>> read, CancellationToken cancellationToken)
    {
        if (!ModelName.IsValid(model) || version <= 0)
            throw new ModelRegistryException(ModelRegistryError.NotFound, $"model '{model}' has no version {version} in MLflow");
        var known = await FindVersionAsync(model, version, cancellationToken).ConfigureAwait(false);
        var fetched = false;
        if (_cache.Contains(model, version))
        {
            if (known?.Sha256 is { } tag && !string.Equals((await _cache.Folder.GetManifestAsync(model, version, cancellationToken).ConfigureAwait(false)).Sha256, tag,
                    StringComparison.OrdinalIgnoreCase))
            {
                _logger.LogWarning("MLflow's {Tag} of model {Model} version {Version} changed since it was downloaded; downloading it again", MlflowTags.Sha256, model, version);
                _cache.Evict(model, version);
            }
        }
        if (!_cache.Contains(model, version))
        {
            await _cache.EnsureAsync(model, known ?? throw Unknown(model, version), cancellationToken).ConfigureAwait(false);
            fetched = true;
        }

        try
        {
            return await read().ConfigureAwait(false);
        }
        catch (ModelRegistryException e) when (!fetched && known is not null && e.Error is ModelRegistryError.ChecksumMismatch or ModelRegistryError.Corrupt or ModelRegistryError.NotFound)
        {
            _logger.LogWarning("Cached model {Model} version {Version} failed its checks ({Error}); downloading it again", model, version, e.Message);
            _cache.Evict(model, version);
            await _cache.EnsureAsync(model, known, cancellationToken).ConfigureAwait(false);
            return await read().ConfigureAwait(false);
        }
    }

    /// <summary>
    /// The version as MLflow lists it: from the snapshot, or read fresh when the snapshot does not
    /// have it yet (registered a moment ago elsewhere). Null when MLflow cannot be reached; a
    /// <see cref="ModelRegistryError.NotFound"/> when MLflow answers that it has no such version.
    /// </summary>
    private async Task<MlflowVersion?> FindVersionAsync(string model, int version, CancellationToken cancellationToken)
    {
        try
        {
            var snapshot = await SnapshotAsync(cancellationToken).ConfigureAwait(false);
            if (snapshot.Models.TryGetValue(model, out var state) && state.Versions.TryGetValue(version, out var known)) return known;
            var fresh = await _reader.ReadModelAsync(model, cancellationToken).ConfigureAwait(false);
            return fresh.Versions.TryGetValue(version, out var found)
                ? found
                : throw new ModelRegistryException(ModelRegistryError.NotFound,
                    $"model '{model}' has no version {version} in MLflow" + (fresh.Versions.Count == 0 ? "" : $" (versions: {string.Join(", ", fresh.Versions.Keys)})"));
        }
        catch (ModelRegistryException e) when (e.Error == ModelRegistryError.Unavailable && _cache.Contains(model, version))
        {
            return null;
        }
    }

    private static ModelRegistryException Unknown(string model, int version) =>
        new(ModelRegistryError.Unavailable, $"model '{model}' version {version} is neither cached nor known (MLflow could not be read)");

    /// <summary>The folder registry's rules for aliases: targets exist, weights lie in [0, 1].</summary>
    private static void Validate(string model, ModelAliases aliases, MlflowModelState current)
    {
        foreach (var (alias, target) in aliases.Entries)
        {
            if (!current.Versions.ContainsKey(target.Version))
                throw new ModelRegistryException(ModelRegistryError.Conflict,
                    $"alias '{alias}' points at model '{model}' version {target.Version}, which does not exist in MLflow");
            if (target.Weight is { } weight && !(weight is >= 0 and <= 1))
                throw new ModelRegistryException(ModelRegistryError.Invalid, $"alias '{alias}' has weight {weight}; weights lie in [0, 1]");
        }
    }

    private void Notify()
    {
        foreach (var watcher in _watchers)
        {
            try
            {
                watcher();
            }
            catch (Exception e)
            {
                _logger.LogWarning(e, "A registry watcher failed");
            }
        }
    }

    private sealed class Unwatch(Action dispose) : IDisposable
    {
        private int _disposed;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _disposed, 1) == 0) dispose();
        }
    }
}
