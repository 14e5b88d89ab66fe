using Microsoft.Extensions.Logging.Abstractions;
using Mlops.Stream.Demo;
using Mlops.Stream.Actors.Lifecycle;
using Mlops.Stream.Inference.Registry;
using Mlops.Stream.Inference.Lifecycle;

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
        _admin = new ModelAdministration(_registry, _audit);
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
}
