using System.Collections.Concurrent;
using Akka.Actor;
using Microsoft.Extensions.Logging.Abstractions;
using Mlops.Stream.Actors.Lifecycle;
using Mlops.Stream.Actors.Serving;
using Mlops.Stream.Demo;
using Mlops.Stream.Inference.Gateway;
using Mlops.Stream.Inference.Lifecycle;
using Mlops.Stream.Inference.Onnx;
using Mlops.Stream.Inference.Registry;
using Mlops.Stream.Inference.Wire;
using Mlops.Stream.Kafka.Topics;
using Xunit.Abstractions;

namespace Mlops.Stream.Actors.Tests.Serving;

/// <summary>Hot swap inside one replica, driven the way the keeper drives it (SetTargets), without Kafka.</summary>
public sealed class ModelReplicaSwapTests : Akka.TestKit.Xunit2.TestKit
{
    private const string Model = "swap-demo";
    private readonly TempDirectory _folder = new("mlops-swap-");
    private readonly FolderModelRegistry _registry;
    private readonly ITestOutputHelper _output;

    public ModelReplicaSwapTests(ITestOutputHelper output) : base(output: output)
    {
        _output = output;
        _registry = new FolderModelRegistry(_folder.Path);
    }

    protected override void AfterAll()
    {
        base.AfterAll();
        _folder.Dispose();
    }

    private readonly Mlops.Stream.Actors.Lifecycle.AuditLog _audit = new(null, "mlops.audit.v1", NullLogger.Instance);

    private IActorRef StartReplica(CanaryGuard? guard = null, bool keepPrevious = true) => Sys.ActorOf(ModelReplica.Props(ReplicaId.For(Model),
        new ServingContext(_registry, OnnxModelOptions.Default, NullLoggerFactory.Instance, TopicCatalog.Default, null, null)
        {
            CanaryGuard = guard is null ? null : guard with { CheckEvery = TimeSpan.FromMilliseconds(50) },
            KeepPreviousVersion = keepPrevious,
            Audit = _audit,
        }));

    private async Task RegisterDemo(int seed) =>
        await _registry.RegisterVersionAsync(Registration(DemoModelBuilder.Build(Model, seed).OnnxModel));

    // Training the demo model takes a moment; its sample request is the same for every seed's shape.
    private static readonly Lazy<InferenceRequest> Sample = new(() => DemoModelBuilder.Build(Model, 42).SampleRequest);

    private static ModelRegistration Registration(byte[] onnx) => new(Model, onnx) { SampleRequest = Sample.Value };

    private static Task<ReplicaStatus> WaitFor(IActorRef replica, Func<ReplicaStatus, bool> condition, string what) =>
        Eventually.ReadsAsync(() => replica.Ask<ReplicaStatus>(new GetReplicaStatus(ReplicaId.For(Model)), TimeSpan.FromSeconds(10)),
            condition, what, TimeSpan.FromSeconds(60), interval: TimeSpan.FromMilliseconds(20));

    private static byte[] Request(string id, int seed)
    {
        var random = new Random(seed);
        var features = Enumerable.Range(0, 30).Select(_ => (float)random.NextDouble()).ToArray();
        return InferenceCodec.EncodeRequest(new InferenceRequest(id, [Tensor.Create("features", features, 1, 30)]));
    }

    private static async Task<InferReply> Infer(IActorRef replica, string id, int seed) =>
        await replica.Ask<InferReply>(new Infer(ReplicaId.For(Model), null, Request(id, seed)), TimeSpan.FromSeconds(30));

    [Fact]
    public async Task Ten_promotions_under_constant_load_fail_no_request_and_release_every_replaced_session()
    {
        foreach (var seed in new[] { 1, 2, 3 }) await RegisterDemo(seed);
        await _registry.SetAliasAsync(Model, ModelAliases.ProductionAlias, new AliasTarget(1));
        var replica = StartReplica();
        await WaitFor(replica, s => s.State == ReplicaState.Ready, "the replica serves version 1");

        // Four clients keep asking while the versions change under them.
        using var stop = new CancellationTokenSource();
        var failures = new ConcurrentBag<InferReply>();
        var served = 0;
        var clients = Enumerable.Range(0, 4).Select(client => Task.Run(async () =>
        {
            for (var i = 0; !stop.IsCancellationRequested; i++)
            {
                var reply = await Infer(replica, $"c{client}-{i}", i);
                if (reply is InferReply.Served) Interlocked.Increment(ref served);
                else failures.Add(reply);
            }
        })).ToArray();

        var sequence = new[] { 2, 3, 1, 2, 3, 1, 2, 3, 1, 2 };   // ten promotions; each loads a version not kept warm
        foreach (var version in sequence)
        {
            replica.Tell(new SetTargets(ReplicaId.For(Model), version));
            await WaitFor(replica, s => s.ServingVersion == version && s.SwappingTo is null, $"version {version} serves");
            // Once the swap is reported, every new request is served by that version.
            var probe = Assert.IsType<InferReply.Served>(await Infer(replica, $"probe-{version}-{Guid.NewGuid():N}", 7));
            Assert.Equal(version, probe.Version);
        }
        stop.Cancel();
        await Task.WhenAll(clients);

        var status = await WaitFor(replica, _ => true, "status");
        _output.WriteLine($"served {served} requests during {sequence.Length} promotions; disposed sessions {status.DisposedSessions}");
        Assert.Empty(failures);
        Assert.True(served > sequence.Length);
        // Every swap keeps the replaced version warm and releases the one kept before it.
        Assert.Equal(sequence.Length - 1, status.DisposedSessions);
        Assert.Equal(1, status.PreviousVersion);   // ...2, 3, 1, 2: the last one replaced was 1

        // A rollback to the version kept warm is instant: no load, and nothing else to release.
        replica.Tell(new SetTargets(ReplicaId.For(Model), 1));
        var rolledBack = await WaitFor(replica, s => s.ServingVersion == 1 && s.SwappingTo is null, "rolled back to 1");
        Assert.Equal(2, rolledBack.PreviousVersion);
        Assert.Equal(sequence.Length - 1, rolledBack.DisposedSessions);
    }

    public static TheoryData<string, string> BrokenVersions => new()
    {
        { "corrupt", "sha256" },
        { "incompatible", "not compatible" },
        { "throws-in-warm-up", "warm-up" },
    };

    [Theory]
    [MemberData(nameof(BrokenVersions))]
    public async Task A_broken_version_is_refused_and_the_serving_version_keeps_serving(string kind, string reasonContains)
    {
        await RegisterDemo(1);
        var good = DemoModelBuilder.Build(Model, 2).OnnxModel;
        switch (kind)
        {
            case "corrupt":
                await _registry.RegisterVersionAsync(Registration(good));
                var file = Path.Combine(_folder.Path, Model, "2", "model.onnx");
                var bytes = await File.ReadAllBytesAsync(file);
                bytes[^10] ^= 0xFF;
                await File.WriteAllBytesAsync(file, bytes);
                break;
            case "incompatible":
                await _registry.RegisterVersionAsync(new ModelRegistration(Model, ModelSurgery.RenameInput(good, "feats")));
                break;
            default:
                await _registry.RegisterVersionAsync(Registration(ModelSurgery.FailingAtRun(good, 30)));
                break;
        }
        await _registry.SetAliasAsync(Model, ModelAliases.ProductionAlias, new AliasTarget(1));
        var replica = StartReplica();
        await WaitFor(replica, s => s.State == ReplicaState.Ready, "the replica serves version 1");

        replica.Tell(new SetTargets(ReplicaId.For(Model), 2));
        var status = await WaitFor(replica, s => s.LastSwap is { Succeeded: false }, "the swap to version 2 is refused");
        _output.WriteLine($"{kind}: {status.LastSwap!.Reason}");
        Assert.Contains(reasonContains, status.LastSwap.Reason, StringComparison.OrdinalIgnoreCase);
        Assert.Equal(1, status.ServingVersion);
        Assert.Equal(ReplicaState.Ready, status.State);
        var reply = Assert.IsType<InferReply.Served>(await Infer(replica, "after-refusal", 3));
        Assert.Equal(1, reply.Version);
        var audited = Assert.Single(_audit.Recent(10), a => a.Action == "swap");
        Assert.Equal(("refused", 2), (audited.Result, audited.Version));
    }

    [Fact]
    public async Task A_canary_serves_its_weight_of_ten_thousand_requests_within_two_points_and_each_id_sticks_to_its_version()
    {
        await RegisterDemo(1);
        await RegisterDemo(2);
        await _registry.SetAliasAsync(Model, ModelAliases.ProductionAlias, new AliasTarget(1));
        var replica = StartReplica();
        await WaitFor(replica, s => s.State == ReplicaState.Ready, "the replica serves version 1");
        replica.Tell(new SetTargets(ReplicaId.For(Model), 1, new CanaryTarget(2, 0.1)));
        await WaitFor(replica, s => s.Canary?.Version == 2, "the canary serves");

        const int count = 10_000;
        var versions = new int[count];
        await Parallel.ForEachAsync(Enumerable.Range(0, count), new ParallelOptions { MaxDegreeOfParallelism = 16 }, async (i, _) =>
            versions[i] = Assert.IsType<InferReply.Served>(await Infer(replica, $"order-{i}", i)).Version);

        var share = versions.Count(v => v == 2) / (double)count;
        _output.WriteLine($"canary share {share:P2}");
        Assert.InRange(share, 0.08, 0.12);
        // The same ids again (a retry) land on the same versions.
        for (var i = 0; i < 200; i++)
            Assert.Equal(versions[i], Assert.IsType<InferReply.Served>(await Infer(replica, $"order-{i}", i)).Version);
        var status = await WaitFor(replica, _ => true, "status");
        Assert.Equal(count * 0.1, status.Versions.Single(v => v.Version == 2).Served, 250.0);

        // Clearing the canary routes everything to production and releases the canary's session.
        replica.Tell(new SetTargets(ReplicaId.For(Model), 1));
        var cleared = await WaitFor(replica, s => s.Canary is null && s.DisposedSessions == 1, "the canary is withdrawn and released");
        Assert.Equal(1, Assert.IsType<InferReply.Served>(await Infer(replica, "order-after", 1)).Version);
        Assert.Equal(1, cleared.ServingVersion);
    }

    [Fact]
    public async Task The_guard_rolls_back_a_canary_that_fails_requests_and_removes_its_alias()
    {
        await RegisterDemo(1);
        // Passes warm-up (its sample has 7 rows), fails every batch whose row count is not a multiple of 7.
        var sevenRows = InferenceCodec.DecodeRequest(InferenceCodec.EncodeRequest(new InferenceRequest("warm",
            [Tensor.Create("features", new float[7 * 30], 7, 30)])));
        await _registry.RegisterVersionAsync(new ModelRegistration(Model, ModelSurgery.FailingAtRun(DemoModelBuilder.Build(Model, 2).OnnxModel, 30))
            { SampleRequest = sevenRows });
        await _registry.SetAliasAsync(Model, ModelAliases.ProductionAlias, new AliasTarget(1));
        await _registry.SetAliasAsync(Model, ModelAliases.CanaryAlias, new AliasTarget(2, 0.5));
        var replica = StartReplica(new CanaryGuard(MaxErrorRate: 0.2, MaxP99: TimeSpan.FromSeconds(10), MinRequests: 20));
        await WaitFor(replica, s => s.State == ReplicaState.Ready, "the replica serves version 1");
        replica.Tell(SetTargets.From(ReplicaId.For(Model), await _registry.GetAliasesAsync(Model)));
        await WaitFor(replica, s => s.Canary?.Version == 2, "the canary serves");

        for (var i = 0; (await WaitFor(replica, _ => true, "status")).LastCanaryRollback is null; i++)
        {
            if (i > 5_000) Assert.Fail("The failing canary was not rolled back");
            await Infer(replica, $"tx-{i}", i);
        }

        var status = await WaitFor(replica, s => s.Canary is null, "the canary is withdrawn");
        _output.WriteLine(status.LastCanaryRollback!.Reason);
        Assert.Contains("error rate", status.LastCanaryRollback.Reason);
        Assert.Null((await _registry.GetAliasesAsync(Model)).Canary);
        await AwaitAssertAsync(() => Assert.Contains(_audit.Recent(10), a => a.Action == "canary-auto-rollback" && a.Version == 2));
        for (var i = 0; i < 20; i++)
            Assert.Equal(1, Assert.IsType<InferReply.Served>(await Infer(replica, $"after-{i}", i)).Version);
    }

    [Fact]
    public async Task The_guard_leaves_a_healthy_canary_alone()
    {
        await RegisterDemo(1);
        await RegisterDemo(2);
        await _registry.SetAliasAsync(Model, ModelAliases.ProductionAlias, new AliasTarget(1));
        var replica = StartReplica(new CanaryGuard(MaxErrorRate: 0.01, MaxP99: TimeSpan.FromSeconds(10), MinRequests: 20));
        await WaitFor(replica, s => s.State == ReplicaState.Ready, "the replica serves version 1");
        replica.Tell(new SetTargets(ReplicaId.For(Model), 1, new CanaryTarget(2, 0.5)));
        await WaitFor(replica, s => s.Canary?.Version == 2, "the canary serves");

        for (var i = 0; i < 400; i++) await Infer(replica, $"tx-{i}", i);
        // Wait until the guard has judged the canary on all of those requests.
        var canaryRequests = (await WaitFor(replica, _ => true, "status")).Versions.Single(v => v.Version == 2).Total;
        Assert.True(canaryRequests >= 20, $"only {canaryRequests} requests reached the canary");
        var status = await WaitFor(replica, s => s.LastGuardCheck?.Total == canaryRequests, "the guard judged the canary");
        Assert.Equal(2, status.Canary?.Version);
        Assert.Null(status.LastCanaryRollback);
        Assert.Equal(0, status.LastGuardCheck!.Failed);
    }

    [Fact]
    public async Task Without_keeping_the_previous_version_every_replaced_session_is_released_at_once()
    {
        await RegisterDemo(1);
        await RegisterDemo(2);
        await _registry.SetAliasAsync(Model, ModelAliases.ProductionAlias, new AliasTarget(1));
        var replica = StartReplica(keepPrevious: false);
        await WaitFor(replica, s => s.State == ReplicaState.Ready, "the replica serves version 1");

        replica.Tell(new SetTargets(ReplicaId.For(Model), 2));
        var status = await WaitFor(replica, s => s.ServingVersion == 2 && s.SwappingTo is null, "version 2 serves");

        Assert.Null(status.PreviousVersion);
        Assert.Equal(1, status.DisposedSessions);
    }

    [Fact]
    public async Task An_incompatible_version_serves_only_when_the_operator_forces_the_breaking_change()
    {
        await RegisterDemo(1);
        await _registry.RegisterVersionAsync(new ModelRegistration(Model, ModelSurgery.RenameInput(DemoModelBuilder.Build(Model, 2).OnnxModel, "feats")));
        await _registry.SetAliasAsync(Model, ModelAliases.ProductionAlias, new AliasTarget(1));
        var replica = StartReplica();
        await WaitFor(replica, s => s.State == ReplicaState.Ready, "the replica serves version 1");

        replica.Tell(new SetTargets(ReplicaId.For(Model), 2));
        await WaitFor(replica, s => s.LastSwap is { Succeeded: false }, "the incompatible version is refused");
        replica.Tell(new SetTargets(ReplicaId.For(Model), 2, AllowBreaking: true));
        var status = await WaitFor(replica, s => s.ServingVersion == 2 && s.SwappingTo is null, "the forced version serves");

        Assert.Equal("feats", status.Signature!.Inputs.Single().Name);
        var body = InferenceCodec.EncodeRequest(new InferenceRequest("new-contract", [Tensor.Create("feats", new float[30], 1, 30)]));
        var reply = Assert.IsType<InferReply.Served>(await replica.Ask<InferReply>(new Infer(ReplicaId.For(Model), null, body), TimeSpan.FromSeconds(30)));
        Assert.Equal(2, reply.Version);
    }

    [Fact]
    public async Task A_target_that_arrives_mid_swap_supersedes_the_pending_one_and_the_replica_ends_on_the_newest()
    {
        foreach (var seed in new[] { 1, 2, 3 }) await RegisterDemo(seed);
        await _registry.SetAliasAsync(Model, ModelAliases.ProductionAlias, new AliasTarget(1));
        var replica = StartReplica();
        await WaitFor(replica, s => s.State == ReplicaState.Ready, "the replica serves version 1");

        replica.Tell(new SetTargets(ReplicaId.For(Model), 2));
        replica.Tell(new SetTargets(ReplicaId.For(Model), 3));   // while version 2 is still loading
        var status = await WaitFor(replica, s => s.ServingVersion == 3 && s.SwappingTo is null, "version 3 serves");

        Assert.Equal(3, status.LastSwap!.To);
        Assert.True(status.LastSwap.Succeeded);
        // Either version 2 was dropped when it finished loading (released; 1 kept warm), or it served
        // for a moment before 3 replaced it (1 released; 2 kept warm): one session released either way.
        Assert.Equal(1, status.DisposedSessions);
        Assert.Contains(status.PreviousVersion, new int?[] { 1, 2 });
        Assert.Equal(3, Assert.IsType<InferReply.Served>(await Infer(replica, "after", 1)).Version);
    }

    [Fact]
    public async Task A_version_the_replica_refuses_is_taken_out_of_the_production_alias_so_a_replica_started_later_serves_the_old_one()
    {
        await RegisterDemo(1);
        await _registry.RegisterVersionAsync(Registration(ModelSurgery.FailingAtRun(DemoModelBuilder.Build(Model, 2).OnnxModel, 30)));
        await _registry.SetAliasAsync(Model, ModelAliases.ProductionAlias, new AliasTarget(1));
        var replica = StartReplica();
        await WaitFor(replica, s => s.State == ReplicaState.Ready, "the replica serves version 1");

        // Production names version 2, which fails its warm-up: the promotion got past every check made without loading it.
        var promoted = await _registry.UpdateAliasesAsync(Model, a => a.With(ModelAliases.ProductionAlias, 2).With(ModelAdministration.PreviousAlias, 1));
        replica.Tell(SetTargets.From(ReplicaId.For(Model), promoted));

        await AwaitConditionAsync(async () => (await _registry.GetAliasesAsync(Model)).Production == 1, TimeSpan.FromSeconds(60));
        var status = await WaitFor(replica, s => s.LastSwap is { Succeeded: false }, "the swap to version 2 is refused");
        Assert.Equal(1, status.ServingVersion);
        Assert.Null((await _registry.GetAliasesAsync(Model)).Resolve(ModelAdministration.PreviousAlias));
        await AwaitAssertAsync(() =>
        {
            var restore = Assert.Single(_audit.Recent(20), a => a.Action == ProductionRestore.AuditAction);
            Assert.Equal(("ok", 1, $"replica:{ReplicaId.For(Model)}"), (restore.Result, restore.Version, restore.Actor));
        });

        // A node starting now reads the aliases and serves version 1, never the refused version.
        Watch(replica);
        replica.Tell(PoisonPill.Instance);
        ExpectTerminated(replica);
        var restarted = await WaitFor(StartReplica(), s => s.State == ReplicaState.Ready, "a new replica serves");
        Assert.Equal(1, restarted.ServingVersion);
    }
}
