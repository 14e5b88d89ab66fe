using Mlops.Stream.Inference.Registry;

namespace Mlops.Stream.Inference.Lifecycle;

/// <summary>
/// Moves the production alias back to the version a replica still serves after the replica refused
/// the version the alias names (checksum, signature or warm-up failed). Without this, the alias
/// would keep naming the refused version and the next node to start would serve it, since a first
/// load has no serving version to check against.
/// </summary>
public static class ProductionRestore
{
    /// <summary>The audit action of a restore, by the replica that made it.</summary>
    public const string AuditAction = "restore-production";

    /// <summary>
    /// A compare-and-set through the registry's alias update: production moves back to
    /// <paramref name="serving"/> only while it still names <paramref name="refused"/> (an operator
    /// may have promoted something else meanwhile). The promotion's <c>previous</c> (now production
    /// again) and its declared breaking change go with it.
    /// </summary>
    /// <returns>Whether the alias was moved back.</returns>
    public static async Task<bool> RestoreAsync(IModelRegistry registry, string model, int refused, int serving, CancellationToken cancellationToken = default)
    {
        var restored = false;
        await registry.UpdateAliasesAsync(model, current =>
        {
            if (current.Production != refused) return current;
            restored = true;
            var updated = current.With(ModelAliases.ProductionAlias, serving);
            if (updated.Resolve(ModelAdministration.PreviousAlias) == serving) updated = updated.Without(ModelAdministration.PreviousAlias);
            if (updated.Resolve(ModelAdministration.BreakingAlias) == refused) updated = updated.Without(ModelAdministration.BreakingAlias);
            return updated;
        }, cancellationToken).ConfigureAwait(false);
        return restored;
    }
}
