using Microsoft.Extensions.Logging.Abstractions;
using Mlops.Stream.Actors.Lifecycle;
using Mlops.Stream.Actors.Tests.Serving;
using Mlops.Stream.Demo;
using Mlops.Stream.Inference.Lifecycle;
using Mlops.Stream.Inference.Registry;
using Mlops.Stream.Kafka.Topics;

namespace Mlops.Stream.Actors.Tests.Lifecycle;

public sealed class ModelAdministrationTests : IDisposable
{
    private const string Model = "admin-demo";
    private static readonly Lazy<(byte[] V1, byte[] V2)> Models = new(() =>
        (DemoModelBuilder.Build(Model, 1).OnnxModel, DemoModelBuilder.Build(Model, 2).OnnxModel));
    private readonly TempDirectory _folder = new("mlops-admin-");
    private readonly FolderModelRegistry _registry;
    private readonly AuditLog _audit = new(null, "mlops.audit.v1", NullLogger.Instance);
    private readonly ModelAdministration _admin;

    public ModelAdministrationTests()
    {
        _registry = new FolderModelRegistry(_folder.Path);
        _admin = new ModelAdministration(_registry, _audit, topics: new CatalogTopicCheck(TopicCatalog.Default));
    }

    public void Dispose() => _folder.Dispose();

    private async Task RegisterTwoVersions()
    {
        Assert.IsType<AdminResult.Done>(await _admin.RegisterAsync(Model, Models.Value.V1, null, "alice", default));
        Assert.IsType<AdminResult.Done>(await _admin.RegisterAsync(Model, Models.Value.V2, null, "alice", default));
    }

    [Fact]
    public async Task Promote_canary_and_rollback_move_the_aliases_and_each_change_is_audited_with_its_actor()
    {
        await RegisterTwoVersions();

        var promoted = Assert.IsType<AdminResult.Done>(await _admin.PromoteAsync(Model, 1, "alice", default));
        Assert.Equal(1, promoted.Aliases.Production);
        promoted = Assert.IsType<AdminResult.Done>(await _admin.PromoteAsync(Model, 2, "bob", default));
        Assert.Equal(2, promoted.Aliases.Production);
        Assert.Equal(1, promoted.Aliases.Resolve(ModelAdministration.PreviousAlias));

        var canary = Assert.IsType<AdminResult.Done>(await _admin.SetCanaryAsync(Model, 1, 0.1, "bob", default));
        Assert.Equal(new AliasTarget(1, 0.1), canary.Aliases.Canary);

        var rolledBack = Assert.IsType<AdminResult.Done>(await _admin.RollbackAsync(Model, "carol", default));
        Assert.Equal(1, rolledBack.Aliases.Production);
        Assert.Equal(2, rolledBack.Aliases.Resolve(ModelAdministration.PreviousAlias));
        Assert.Null(rolledBack.Aliases.Canary);

        var audit = _admin.Audit(100);
        Assert.Equal(["rollback", "canary", "promote", "promote", "register", "register"], audit.Select(a => a.Action));
        Assert.Equal("carol", audit[0].Actor);
        Assert.All(audit, a => Assert.Equal("ok", a.Result));
    }

    [Fact]
    public async Task Every_change_is_idempotent()
    {
        await RegisterTwoVersions();
        await _admin.PromoteAsync(Model, 2, "alice", default);

        var again = Assert.IsType<AdminResult.Done>(await _admin.PromoteAsync(Model, 2, "alice", default));
        Assert.False(again.Changed);
        Assert.Equal(2, again.Aliases.Production);
        Assert.False(Assert.IsType<AdminResult.Done>(await _admin.DeployAsync(Model, "alice", default)).Changed);
        Assert.True(Assert.IsType<AdminResult.Done>(await _admin.UndeployAsync(Model, "alice", default)).Changed);
        Assert.False(Assert.IsType<AdminResult.Done>(await _admin.UndeployAsync(Model, "alice", default)).Changed);
        Assert.Equal("unchanged", _admin.Audit(1)[0].Result);
    }

    [Fact]
    public async Task Undeploy_removes_production_and_deploy_brings_the_same_version_back()
    {
        await RegisterTwoVersions();
        await _admin.PromoteAsync(Model, 2, "alice", default);
        await _admin.SetCanaryAsync(Model, 1, 0.2, "alice", default);

        var undeployed = Assert.IsType<AdminResult.Done>(await _admin.UndeployAsync(Model, "alice", default));
        Assert.Null(undeployed.Aliases.Production);
        Assert.Null(undeployed.Aliases.Canary);

        var deployed = Assert.IsType<AdminResult.Done>(await _admin.DeployAsync(Model, "alice", default));
        Assert.Equal(2, deployed.Aliases.Production);
    }

    [Fact]
    public async Task Refusals_say_why_and_change_nothing()
    {
        Assert.IsType<AdminResult.NotFound>(await _admin.PromoteAsync("nobody", 1, "alice", default));
        await RegisterTwoVersions();
        Assert.IsType<AdminResult.NotFound>(await _admin.PromoteAsync(Model, 9, "alice", default));
        Assert.Contains("no previous version", Assert.IsType<AdminResult.Conflict>(await _admin.RollbackAsync(Model, "alice", default)).Message);
        await _admin.PromoteAsync(Model, 1, "alice", default);
        Assert.IsType<AdminResult.Conflict>(await _admin.SetCanaryAsync(Model, 1, 0.5, "alice", default));
        Assert.IsType<AdminResult.Invalid>(await _admin.SetCanaryAsync(Model, 2, 1.5, "alice", default));
        Assert.IsType<AdminResult.Invalid>(await _admin.RegisterAsync(Model, [1, 2, 3], null, "alice", default));

        Assert.Equal(1, (await _registry.GetAliasesAsync(Model)).Production);
        Assert.Null((await _registry.GetAliasesAsync(Model)).Canary);
        Assert.Contains(_admin.Audit(100), a => a.Result == "invalid" && a.Action == "register");
    }

    [Fact]
    public async Task A_forced_promotion_marks_the_version_as_a_declared_breaking_change_and_a_normal_one_clears_it()
    {
        await RegisterTwoVersions();
        await _admin.PromoteAsync(Model, 1, "alice", default);

        var forced = Assert.IsType<AdminResult.Done>(await _admin.PromoteAsync(Model, 2, "alice", default, force: true));
        Assert.Equal(2, forced.Aliases.Resolve(ModelAdministration.BreakingAlias));
        Assert.True(Mlops.Stream.Actors.Serving.SetTargets.From("m#0", forced.Aliases).AllowBreaking);
        Assert.Equal("promote-forced", _admin.Audit(1)[0].Action);

        var normal = Assert.IsType<AdminResult.Done>(await _admin.PromoteAsync(Model, 1, "alice", default));
        Assert.Null(normal.Aliases.Resolve(ModelAdministration.BreakingAlias));
        Assert.False(Mlops.Stream.Actors.Serving.SetTargets.From("m#0", normal.Aliases).AllowBreaking);
    }

    [Fact]
    public async Task A_version_with_other_inputs_is_refused_before_the_production_alias_moves_unless_the_promotion_is_forced()
    {
        await RegisterTwoVersions();
        await _admin.RegisterAsync(Model, ModelSurgery.RenameInput(Models.Value.V2, "feats"), null, "alice", default);
        await _admin.PromoteAsync(Model, 1, "alice", default);

        var refused = Assert.IsType<AdminResult.Conflict>(await _admin.PromoteAsync(Model, 3, "bob", default));

        Assert.Equal(AdminErrorCodes.SignatureMismatch, refused.Code);
        Assert.Contains("input 'features' is missing", refused.Message);
        Assert.Contains("production version 1", refused.Message);
        Assert.Equal(1, (await _registry.GetAliasesAsync(Model)).Production);
        Assert.Equal(("promote", "conflict"), (_admin.Audit(1)[0].Action, _admin.Audit(1)[0].Result));

        var forced = Assert.IsType<AdminResult.Done>(await _admin.PromoteAsync(Model, 3, "bob", default, force: true));
        Assert.Equal(3, forced.Aliases.Production);
    }

    [Fact]
    public async Task A_canary_with_other_inputs_and_a_promotion_of_a_changed_model_file_are_refused_before_any_alias_moves()
    {
        await RegisterTwoVersions();
        await _admin.RegisterAsync(Model, ModelSurgery.RenameInput(Models.Value.V2, "feats"), null, "alice", default);
        await _admin.PromoteAsync(Model, 1, "alice", default);
        var file = Path.Combine(_registry.Root, Model, "2", FolderModelRegistry.ModelFileName);
        var bytes = await File.ReadAllBytesAsync(file);
        bytes[^10] ^= 0xFF;
        await File.WriteAllBytesAsync(file, bytes);

        var canary = Assert.IsType<AdminResult.Conflict>(await _admin.SetCanaryAsync(Model, 3, 0.1, "bob", default));
        var corrupt = Assert.IsType<AdminResult.Conflict>(await _admin.PromoteAsync(Model, 2, "bob", default, force: true));

        Assert.Equal(AdminErrorCodes.SignatureMismatch, canary.Code);
        Assert.Equal(AdminErrorCodes.ChecksumMismatch, corrupt.Code);
        Assert.Contains("sha256", corrupt.Message);
        var aliases = await _registry.GetAliasesAsync(Model);
        Assert.Equal((1, null), (aliases.Production, aliases.Canary));
    }

    [Fact]
    public async Task A_model_name_with_a_dot_or_whose_topics_kafka_would_confuse_with_another_models_is_refused()
    {
        await RegisterTwoVersions();

        var dotted = Assert.IsType<AdminResult.Invalid>(await _admin.RegisterAsync($"{Model}.dlq", Models.Value.V1, null, "alice", default));
        var alike = Assert.IsType<AdminResult.Conflict>(await _admin.RegisterAsync($"{Model}_dlq", Models.Value.V1, null, "alice", default));

        Assert.Equal(AdminErrorCodes.InvalidModelName, dotted.Code);
        Assert.Equal(AdminErrorCodes.TopicCollision, alike.Code);
        Assert.Contains($"mlops.requests.{Model}.dlq.v1", alike.Message);
        Assert.Equal([Model], await _registry.ListModelsAsync());
        Assert.Empty(Directory.EnumerateFileSystemEntries(_registry.Root, ".*"));
    }

    [Fact]
    public async Task Scale_sets_changes_and_clears_the_replica_count_idempotently_and_audits_each_call()
    {
        await RegisterTwoVersions();

        var set = Assert.IsType<AdminResult.Scaled>(await _admin.ScaleAsync(Model, 3, "alice", default));
        var again = Assert.IsType<AdminResult.Scaled>(await _admin.ScaleAsync(Model, 3, "bob", default));
        Assert.Equal((Model, new ModelScale(3), true), (set.Model, set.Scale, set.Changed));
        Assert.Equal((new ModelScale(3), false), (again.Scale, again.Changed));
        Assert.Equal(new ModelScale(3), await _registry.GetScaleAsync(Model));

        var cleared = Assert.IsType<AdminResult.Scaled>(await _admin.ScaleAsync(Model, null, "carol", default));
        var clearedAgain = Assert.IsType<AdminResult.Scaled>(await _admin.ScaleAsync(Model, null, "carol", default));
        Assert.Equal((null, true), (cleared.Scale, cleared.Changed));
        Assert.False(clearedAgain.Changed);
        Assert.Null(await _registry.GetScaleAsync(Model));

        var audit = _admin.Audit(4);
        Assert.All(audit, a => Assert.Equal(("scale", Model, (int?)null), (a.Action, a.Model, a.Version)));
        Assert.Equal(["unchanged", "ok", "unchanged", "ok"], audit.Select(a => a.Result));
        Assert.Equal(["carol", "carol", "bob", "alice"], audit.Select(a => a.Actor));
        Assert.Equal(["replicas: one per node", "replicas: one per node", "replicas: 3", "replicas: 3"], audit.Select(a => a.Detail));
        // Scaling leaves the aliases alone.
        Assert.Same(ModelAliases.Empty, await _registry.GetAliasesAsync(Model));
    }

    [Theory]
    [InlineData(0)]
    [InlineData(65)]
    public async Task Scale_refuses_a_count_out_of_range_and_keeps_the_current_one(int replicas)
    {
        await RegisterTwoVersions();
        await _admin.ScaleAsync(Model, 2, "alice", default);

        var refused = Assert.IsType<AdminResult.Invalid>(await _admin.ScaleAsync(Model, replicas, "bob", default));

        Assert.Equal(AdminErrorCodes.InvalidScale, refused.Code);
        Assert.Contains($"replicas must be from 1 to 64, was {replicas}", refused.Message);
        Assert.Equal(new ModelScale(2), await _registry.GetScaleAsync(Model));
        Assert.Equal(("scale", "bob", "invalid"), (_admin.Audit(1)[0].Action, _admin.Audit(1)[0].Actor, _admin.Audit(1)[0].Result));
    }

    [Fact]
    public async Task Scale_of_a_model_not_in_the_registry_is_not_found_and_audited()
    {
        var missing = Assert.IsType<AdminResult.NotFound>(await _admin.ScaleAsync("nobody", 2, "alice", default));
        // Not found comes before the count's check: there is nothing to scale.
        Assert.IsType<AdminResult.NotFound>(await _admin.ScaleAsync("nobody", 0, "alice", default));

        Assert.Contains("'nobody' is not in the registry", missing.Message);
        Assert.All(_admin.Audit(2), a => Assert.Equal(("scale", "nobody", "not_found"), (a.Action, a.Model, a.Result)));
        Assert.Empty(await _registry.ListModelsAsync());
    }

    [Fact]
    public async Task Restoring_production_after_a_refusal_moves_the_alias_back_only_while_it_still_names_the_refused_version()
    {
        await RegisterTwoVersions();
        await _admin.PromoteAsync(Model, 1, "alice", default);
        await _admin.PromoteAsync(Model, 2, "alice", default, force: true);

        Assert.True(await ProductionRestore.RestoreAsync(_registry, Model, refused: 2, serving: 1));
        var restored = await _registry.GetAliasesAsync(Model);
        Assert.Equal(1, restored.Production);
        Assert.Null(restored.Resolve(ModelAdministration.PreviousAlias));
        Assert.Null(restored.Resolve(ModelAdministration.BreakingAlias));

        // Once production names another version, a late restore changes nothing.
        await _admin.PromoteAsync(Model, 2, "alice", default);
        Assert.False(await ProductionRestore.RestoreAsync(_registry, Model, refused: 1, serving: 1));
        Assert.Equal(2, (await _registry.GetAliasesAsync(Model)).Production);
    }
}
