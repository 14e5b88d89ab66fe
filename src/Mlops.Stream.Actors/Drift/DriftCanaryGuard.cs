using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;
using Mlops.Stream.Drift.Windows;
using Mlops.Stream.Inference.Lifecycle;
using Mlops.Stream.Inference.Registry;

namespace Mlops.Stream.Actors.Drift;

/// <summary>
/// Which models' canaries the drift job may withdraw, and how much worse a canary's labelled
/// accuracy may be. Off by default: an empty <see cref="Models"/> withdraws nothing.
/// </summary>
/// <param name="Models">Model names whose canary is withdrawn on drift; <c>*</c> means every model.</param>
/// <param name="AccuracyMargin">A canary whose accuracy is below production's by more than this is withdrawn.</param>
/// <param name="MinLabelled">Both windows need at least this many labelled rows before accuracies are compared.</param>
public sealed record CanaryWithdrawalOptions(IReadOnlySet<string> Models, double AccuracyMargin = 0.05, int MinLabelled = 50)
{
    public static CanaryWithdrawalOptions Off { get; } = new(new HashSet<string>());

    public bool AppliesTo(string model) => Models.Contains(model) || Models.Contains("*");
}

/// <summary>
/// The drift job's canary guard (issue 11's automated response, optional per model): a canary whose
/// latest window drifted while production's latest window did not, or whose labelled accuracy is
/// below production's by more than <see cref="CanaryWithdrawalOptions.AccuracyMargin"/>, is
/// withdrawn: its alias is removed from the registry (compare-and-set: only if it still names that
/// version), so every replica's canary controller stops routing to it, and the change is audited
/// (actor <c>drift-job</c>, action <see cref="AuditAction"/>). Production drift only alerts
/// (<see cref="DriftAlerts"/>): there is nothing safer to fall back to. Checks run one at a time,
/// off the job's stream, so a slow registry never slows the job.
/// </summary>
public sealed class DriftCanaryGuard(IModelRegistry registry, IAuditLog? audit, CanaryWithdrawalOptions options, ILogger logger)
{
    public const string AuditAction = "canary-drift-rollback";

    private readonly ConcurrentDictionary<(string Model, int Version), DriftWindowReport> _latest = new();
    private readonly object _chainLock = new();
    private Task _checks = Task.CompletedTask;

    /// <summary>
    /// Called for every window the job published. Returns the check it queued (tests wait on it);
    /// the job does not.
    /// </summary>
    public Task Observe(DriftWindowReport window)
    {
        ArgumentNullException.ThrowIfNull(window);
        _latest[(window.Model, window.Version)] = window;
        if (!options.AppliesTo(window.Model)) return Task.CompletedTask;
        lock (_chainLock)
        {
            _checks = _checks.ContinueWith(_ => CheckAsync(window.Model), TaskScheduler.Default).Unwrap();
            return _checks;
        }
    }

    /// <summary>Why the canary's window is worse than production's, by the rules above; null when it is not (or either has no window yet).</summary>
    public static string? Reason(DriftWindowReport canary, DriftWindowReport production, CanaryWithdrawalOptions options)
    {
        if (canary.Dataset.Drifted && !production.Dataset.Drifted)
        {
            return $"canary version {canary.Version}'s window {canary.Start:O} to {canary.End:O} drifted ({canary.Dataset.DriftedCount} of {canary.Dataset.EvaluatedCount} features: "
                + $"{string.Join(", ", canary.Features.Where(f => f.Drifted).Select(f => f.Feature).Take(10))}) while production version {production.Version}'s latest window did not";
        }

        if (canary.Performance is { Accuracy: { } canaryAccuracy } c && production.Performance is { Accuracy: { } productionAccuracy } p
            && c.Labelled >= options.MinLabelled && p.Labelled >= options.MinLabelled
            && canaryAccuracy < productionAccuracy - options.AccuracyMargin)
        {
            return $"canary version {canary.Version}'s accuracy {canaryAccuracy:0.###} over {c.Labelled} labelled rows is below production version {production.Version}'s "
                + $"{productionAccuracy:0.###} over {p.Labelled} by more than {options.AccuracyMargin:0.###}";
        }

        return null;
    }

    private async Task CheckAsync(string model)
    {
        try
        {
            var aliases = await registry.GetAliasesAsync(model).ConfigureAwait(false);
            if (aliases.Canary?.Version is not { } canary || aliases.Production is not { } production) return;
            if (!_latest.TryGetValue((model, canary), out var canaryWindow) || !_latest.TryGetValue((model, production), out var productionWindow)) return;
            if (Reason(canaryWindow, productionWindow, options) is not { } reason) return;

            var withdrawn = false;
            await registry.UpdateAliasesAsync(model, current =>
            {
                // Only the canary judged: an operator may have moved it meanwhile.
                if (current.Canary?.Version != canary) return current;
                withdrawn = true;
                return current.Without(ModelAliases.CanaryAlias);
            }).ConfigureAwait(false);
            if (!withdrawn) return;

            logger.LogWarning("Drift job of {Model}: canary version {Version} withdrawn: {Reason}", model, canary, reason);
            if (audit is not null)
            {
                await audit.WriteAsync(new AuditEvent(Guid.NewGuid().ToString("N"), DateTimeOffset.UtcNow, DriftAlerts.AuditActor, AuditAction, model, canary, "ok", reason))
                    .ConfigureAwait(false);
            }
        }
        catch (Exception e) when (e is ModelRegistryException or IOException or OperationCanceledException)
        {
            // The next window checks again.
            logger.LogWarning("Drift job of {Model}: the canary could not be checked or withdrawn: {Reason}", model, e.Message);
        }
    }
}
