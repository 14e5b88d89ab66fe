namespace Mlops.Stream.Inference.Registry;

/// <summary>
/// Where model versions live, independent of the backend (the embedded folder registry today,
/// MLflow's registry later). Versions are immutable once registered; aliases ("production",
/// "canary") are the only mutable state and are replaced atomically, so a reader sees the old
/// or the new aliases, never a mix. All failures are <see cref="ModelRegistryException"/>s whose
/// message names the file or entry and the problem.
/// </summary>
public interface IModelRegistry
{
    Task<IReadOnlyList<string>> ListModelsAsync(CancellationToken cancellationToken = default);

    /// <summary>Registered versions of <paramref name="model"/>, ascending; empty when the model is unknown.</summary>
    Task<IReadOnlyList<int>> ListVersionsAsync(string model, CancellationToken cancellationToken = default);

    /// <summary>The manifest as stored, without verifying the model file (cheap; for listings).</summary>
    Task<ModelManifest> GetManifestAsync(string model, int version, CancellationToken cancellationToken = default);

    /// <summary>The model's aliases; <see cref="ModelAliases.Empty"/> when none were ever set.</summary>
    Task<ModelAliases> GetAliasesAsync(string model, CancellationToken cancellationToken = default);

    /// <summary>Replaces all aliases at once. Every target version must exist; canary weights lie in [0, 1].</summary>
    Task SetAliasesAsync(string model, ModelAliases aliases, CancellationToken cancellationToken = default);

    /// <summary>Sets (or with null removes) one alias, keeping the others; read-modify-write under the registry's lock.</summary>
    Task<ModelAliases> SetAliasAsync(string model, string alias, AliasTarget? target, CancellationToken cancellationToken = default);

    /// <summary>
    /// Reads the aliases, applies <paramref name="update"/> and writes the result, all under the
    /// registry's lock, so changes of several aliases at once (promote, rollback) never interleave.
    /// This is also the registry's compare-and-set: <paramref name="update"/> sees the current
    /// aliases, and returning them unchanged (the same instance) writes nothing.
    /// Returns the aliases as written.
    /// </summary>
    Task<ModelAliases> UpdateAliasesAsync(string model, Func<ModelAliases, ModelAliases> update, CancellationToken cancellationToken = default);

    /// <summary>The replica count an operator set for <paramref name="model"/>; null when none was set (one replica per node).</summary>
    Task<ModelScale?> GetScaleAsync(string model, CancellationToken cancellationToken = default);

    /// <summary>Sets the model's replica count, or with null goes back to one replica per node. The model must have a version.</summary>
    Task SetScaleAsync(string model, ModelScale? scale, CancellationToken cancellationToken = default);

    /// <summary>
    /// Stores a new immutable version after checking that the model's name follows
    /// <see cref="ModelName"/>, that ONNX Runtime loads the model and that its signature equals the
    /// declared one. The version is max+1 unless the registration names one.
    /// </summary>
    /// <returns>The manifest as written, with the assigned version, creation time and sha256.</returns>
    Task<ModelManifest> RegisterVersionAsync(ModelRegistration registration, CancellationToken cancellationToken = default);

    /// <summary>
    /// Copies an ONNX model from <paramref name="content"/> into a temporary file inside the registry,
    /// taking its size and sha256 on the way, so a model of any size passes through without being
    /// held in memory. Register it with <see cref="RegisterVersionAsync(ModelRegistration, ModelUpload, CancellationToken)"/>.
    /// </summary>
    /// <exception cref="ModelRegistryException">
    /// <see cref="ModelRegistryError.TooLarge"/> once the content passes <paramref name="maxBytes"/>.
    /// On any failure the temporary file is deleted.
    /// </exception>
    Task<ModelUpload> ReceiveUploadAsync(System.IO.Stream content, long maxBytes, CancellationToken cancellationToken = default);

    /// <summary>
    /// Stores a new immutable version from a received upload, with the same checks as
    /// <see cref="RegisterVersionAsync(ModelRegistration, CancellationToken)"/> run on the file
    /// (<see cref="ModelRegistration.OnnxModel"/> is not used). The file is moved into the version.
    /// </summary>
    Task<ModelManifest> RegisterVersionAsync(ModelRegistration registration, ModelUpload upload, CancellationToken cancellationToken = default);

    /// <summary>
    /// Reads a version for serving and verifies it: the model's sha256 equals the manifest's, ONNX
    /// Runtime loads it, and its inputs and outputs equal the manifest's signature.
    /// </summary>
    Task<ModelArtifacts> OpenVersionAsync(string model, int version, CancellationToken cancellationToken = default);

    /// <summary>
    /// The checks of <see cref="OpenVersionAsync"/> (sha256, loads in ONNX Runtime, signature equals the
    /// manifest's) without reading the model into memory; for deciding whether a version may serve
    /// before an alias points at it. Returns the manifest.
    /// </summary>
    Task<ModelManifest> VerifyVersionAsync(string model, int version, CancellationToken cancellationToken = default);

    /// <summary>
    /// Calls <paramref name="changed"/> (on any thread) soon after any model's aliases or scale change, until
    /// the result is disposed. A hint, not a guarantee: callers still read the aliases now and then.
    /// </summary>
    IDisposable WatchAliases(Action changed);

    /// <summary>
    /// The version's reference sample (<see cref="ReferenceSample"/>), stored beside the model when one
    /// was registered with it or set since; null when the version has none. A registry that keeps no
    /// samples always answers null.
    /// </summary>
    Task<ReferenceSample?> GetReferenceSampleAsync(string model, int version, CancellationToken cancellationToken = default) =>
        Task.FromResult<ReferenceSample?>(null);

    /// <summary>
    /// Replaces the version's reference sample (the only part of a version that may change, so drift
    /// can be judged against a newer baseline). The sample must fit the version's inputs
    /// (<see cref="ReferenceSample.ProblemFor"/>).
    /// </summary>
    /// <exception cref="ModelRegistryException">Unknown version, a sample that does not fit, or a registry that keeps no samples.</exception>
    Task SetReferenceSampleAsync(string model, int version, ReferenceSample sample, CancellationToken cancellationToken = default) =>
        throw new ModelRegistryException(ModelRegistryError.Invalid, $"this registry ({GetType().Name}) does not store reference samples; use the folder registry");
}
