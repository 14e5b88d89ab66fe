using Microsoft.Extensions.Logging.Abstractions;
using Mlops.Stream.Actors.Drift;
using Mlops.Stream.Actors.Tests.Support;
using Mlops.Stream.Drift;
using Mlops.Stream.Drift.Performance;
using Mlops.Stream.Drift.Windows;
using Mlops.Stream.Inference.Registry;

namespace Mlops.Stream.Actors.Tests.Drift;

/// <summary>
/// The drift job's canary guard (issue 11's automated response): a canary whose window drifts while
/// production's does not, or whose labelled accuracy falls below production's by more than the
/// margin, loses its alias (audited); production drift, a canary as good as production, too few
/// labels, or a model the guard is not enabled for change nothing.
/// </summary>
public sealed class DriftCanaryGuardTests : IAsyncLifetime, IDisposable
{
    private const string Model = "fraud";
    private readonly TempDirectory _folder = new();
    private readonly MemoryAuditLog _audit = new();
    private FolderModelRegistry _registry = null!;

    public async Task InitializeAsync()
    {
        _registry = await DriftEvents.RegistryAsync(_folder, Model);
        await _registry.RegisterVersionAsync(DemoFixture.Model.Registration with { Model = Model, Version = 2 });
        await _registry.SetAliasesAsync(Model, ModelAliases.Empty.With(ModelAliases.ProductionAlias, 1).With(ModelAliases.CanaryAlias, 2, 0.2));
    }

    public Task DisposeAsync() => Task.CompletedTask;

    public void Dispose() => _folder.Dispose();

    private DriftCanaryGuard Guard(params string[] models) =>
        new(_registry, _audit, new CanaryWithdrawalOptions(models.ToHashSet(), AccuracyMargin: 0.05, MinLabelled: 50), NullLogger.Instance);

    [Fact]
    public async Task A_canary_whose_window_drifts_while_productions_does_not_is_withdrawn_and_audited()
    {
        var guard = Guard(Model);
        await guard.Observe(Window(version: 1, drifted: false));
        await guard.Observe(Window(version: 2, drifted: true));

        var aliases = await _registry.GetAliasesAsync(Model);
        Assert.Null(aliases.Canary);
        Assert.Equal(1, aliases.Production);
        var audited = Assert.Single(_audit.Events);
        Assert.Equal(("drift-job", DriftCanaryGuard.AuditAction, Model, 2, "ok"), (audited.Actor, audited.Action, audited.Model, audited.Version, audited.Result));
        Assert.Contains("drifted (2 of 4 features: amount, hour) while production version 1's latest window did not", audited.Detail);
    }

    [Fact]
    public async Task Drift_in_production_too_or_in_production_only_withdraws_nothing()
    {
        var guard = Guard(Model);
        await guard.Observe(Window(version: 1, drifted: true));
        await guard.Observe(Window(version: 2, drifted: true));
        await guard.Observe(Window(version: 2, drifted: false));

        Assert.Equal(2, (await _registry.GetAliasesAsync(Model)).Canary?.Version);
        Assert.Empty(_audit.Events);
    }

    [Fact]
    public async Task A_canary_less_accurate_than_production_by_more_than_the_margin_is_withdrawn()
    {
        var guard = Guard(Model);
        await guard.Observe(Window(version: 1, drifted: false, accuracy: 0.95, labelled: 100));
        await guard.Observe(Window(version: 2, drifted: false, accuracy: 0.91, labelled: 100));   // within the margin
        Assert.Equal(2, (await _registry.GetAliasesAsync(Model)).Canary?.Version);
        await guard.Observe(Window(version: 2, drifted: false, accuracy: 0.70, labelled: 20));    // too few labels to judge
        Assert.Equal(2, (await _registry.GetAliasesAsync(Model)).Canary?.Version);

        await guard.Observe(Window(version: 2, drifted: false, accuracy: 0.80, labelled: 100));

        Assert.Null((await _registry.GetAliasesAsync(Model)).Canary);
        Assert.Contains("accuracy 0.8 over 100 labelled rows is below production version 1's 0.95", Assert.Single(_audit.Events).Detail);
    }

    [Fact]
    public async Task Without_the_model_enabled_a_drifting_canary_stays()
    {
        var guard = Guard("another-model");
        await guard.Observe(Window(version: 1, drifted: false));
        await guard.Observe(Window(version: 2, drifted: true));

        Assert.Equal(2, (await _registry.GetAliasesAsync(Model)).Canary?.Version);
        Assert.Empty(_audit.Events);
    }

    [Fact]
    public async Task A_canary_with_no_production_window_yet_is_not_judged()
    {
        var guard = Guard("*");
        await guard.Observe(Window(version: 2, drifted: true));

        Assert.Equal(2, (await _registry.GetAliasesAsync(Model)).Canary?.Version);
    }

    private static DriftWindowReport Window(int version, bool drifted, double? accuracy = null, int labelled = 0) =>
        JudgedWindows.Window(Model, version, drifted) with
        {
            Performance = accuracy is null ? null : new ClassificationPerformance(labelled, 0, 2, PerformanceAverage.Binary, 1, accuracy, null, null, null),
        };
}
