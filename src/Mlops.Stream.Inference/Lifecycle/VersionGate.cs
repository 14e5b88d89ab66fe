using Mlops.Stream.Inference.Registry;

namespace Mlops.Stream.Inference.Lifecycle;

/// <summary>
/// Checks a version before an alias points at it, the way a replica checks it before serving: the
/// model file has its manifest's sha256 and signature, and (unless the operator declares a breaking
/// change) its inputs and outputs are the production version's. Refusing here, before the alias
/// moves, is what keeps a promotion from reporting success and a restart from serving a version
/// the running replicas refused.
/// </summary>
internal sealed class VersionGate(IModelRegistry registry)
{
    /// <returns>Why <paramref name="version"/> may not take the alias, or null when it may.</returns>
    public async Task<AdminResult.Conflict?> CheckAsync(
        string model, int version, int? production, bool allowBreaking, CancellationToken cancellationToken)
    {
        ModelManifest candidate;
        try
        {
            candidate = await registry.VerifyVersionAsync(model, version, cancellationToken).ConfigureAwait(false);
        }
        catch (ModelRegistryException e)
        {
            return new AdminResult.Conflict($"Version {version} of '{model}' cannot serve: {e.Message}", e.Error switch
            {
                ModelRegistryError.ChecksumMismatch => AdminErrorCodes.ChecksumMismatch,
                ModelRegistryError.SignatureMismatch => AdminErrorCodes.SignatureMismatch,
                _ => AdminErrorCodes.VersionInvalid,
            });
        }

        if (allowBreaking || production is not { } serving || serving == version) return null;
        var contract = (await registry.GetManifestAsync(model, serving, cancellationToken).ConfigureAwait(false)).Signature;
        if (contract.Differences(candidate.Signature) is not { Count: > 0 } differences) return null;
        return new AdminResult.Conflict(
            $"Version {version} of '{model}' has other inputs or outputs than production version {serving}: {string.Join("; ", differences)}.",
            AdminErrorCodes.SignatureMismatch);
    }
}
