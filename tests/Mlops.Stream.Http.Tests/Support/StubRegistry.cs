using Mlops.Stream.Inference.Registry;
using Mlops.Stream.Inference.Wire;

namespace Mlops.Stream.Http.Tests.Support;

/// <summary>
/// A registry that knows models <c>fraud</c> and <c>no-topics</c> (versions 1 and 2, production 2,
/// a one-feature reference profile) and nothing else; every change is refused. For the routes
/// that only ask whether a model exists and read its manifest.
/// </summary>
internal sealed class StubRegistry : IModelRegistry
{
    public Task<IReadOnlyList<int>> ListVersionsAsync(string model, CancellationToken cancellationToken = default) =>
        Task.FromResult<IReadOnlyList<int>>(model is "fraud" or "no-topics" ? [1, 2] : []);

    public Task<ModelAliases> GetAliasesAsync(string model, CancellationToken cancellationToken = default) =>
        Task.FromResult(ModelAliases.Empty.With(ModelAliases.ProductionAlias, 2));

    public Task<ModelManifest> GetManifestAsync(string model, int version, CancellationToken cancellationToken = default) =>
        Task.FromResult(new ModelManifest
        {
            Name = model,
            Version = version,
            Created = DateTimeOffset.UnixEpoch,
            Sha256 = "00",
            Inputs = [new TensorSpec("features", TensorDataType.Fp32, [-1, 1])],
            Outputs = [new TensorSpec("label", TensorDataType.Int64, [-1])],
            ReferenceProfile = [FeatureProfile.FromValues("amount", [1, 3, 5, 7], bins: 2)],
        });

    public Task<IReadOnlyList<string>> ListModelsAsync(CancellationToken cancellationToken = default) => throw new NotSupportedException();
    public Task SetAliasesAsync(string model, ModelAliases aliases, CancellationToken cancellationToken = default) => throw new NotSupportedException();
    public Task<ModelAliases> SetAliasAsync(string model, string alias, AliasTarget? target, CancellationToken cancellationToken = default) => throw new NotSupportedException();
    public Task<ModelAliases> UpdateAliasesAsync(string model, Func<ModelAliases, ModelAliases> update, CancellationToken cancellationToken = default) => throw new NotSupportedException();
    public Task<ModelManifest> RegisterVersionAsync(ModelRegistration registration, CancellationToken cancellationToken = default) => throw new NotSupportedException();
    public Task<ModelArtifacts> OpenVersionAsync(string model, int version, CancellationToken cancellationToken = default) => throw new NotSupportedException();
    public Task<ModelManifest> VerifyVersionAsync(string model, int version, CancellationToken cancellationToken = default) => throw new NotSupportedException();
    public Task<ModelUpload> ReceiveUploadAsync(System.IO.Stream content, long maxBytes, CancellationToken cancellationToken = default) => throw new NotSupportedException();
    public Task<ModelManifest> RegisterVersionAsync(ModelRegistration registration, ModelUpload upload, CancellationToken cancellationToken = default) => throw new NotSupportedException();
    public Task<ModelScale?> GetScaleAsync(string model, CancellationToken cancellationToken = default) => throw new NotSupportedException();
    public Task SetScaleAsync(string model, ModelScale? scale, CancellationToken cancellationToken = default) => throw new NotSupportedException();

    public IDisposable WatchAliases(Action changed) => throw new NotSupportedException();
}
