using Mlops.Stream.Inference.Lifecycle;
using Akka;
using Akka.Actor;
using Akka.Event;
using Akka.Streams;
using Microsoft.Extensions.Logging;
using System.Diagnostics;
using Mlops.Stream.Inference.Batching;
using Mlops.Stream.Actors.Metrics;
using Mlops.Stream.Inference.Onnx;
using Mlops.Stream.Inference.Registry;
using Mlops.Stream.Inference.Wire;
using Mlops.Stream.Kafka.Dsl;
using Mlops.Stream.Kafka.Topics;
using Mlops.Stream.Inference.Gateway;

namespace Mlops.Stream.Actors.Serving;

/// <summary>
/// One replica of one model (a sharded entity, id <c>&lt;model&gt;#&lt;n&gt;</c>). It loads the
/// production version from the registry, warms it, owns the version's dynamic batcher, and owns
/// the model's Kafka stream (consumer group <c>mlops-serve.&lt;model&gt;</c>), materialized here so it
/// dies with the actor. HTTP inferences arrive as <see cref="Infer"/> messages and share the batcher.
///
/// States: Loading (requests get NotReady) → Ready, or Failed (reason kept; a new load is tried
/// after <see cref="ServingContext.RetryLoadAfter"/>). Loading and inference run off the actor's
/// thread and come back as messages.
///
/// Hot swap (<see cref="SetTargets"/>): the new version is loaded beside the serving one, its
/// checksum and signature checked against the serving contract, warmed with its sample request,
/// then switched in between batches; the old session is released once no batch uses it and kept
/// as the previous version for an instant rollback. A version that fails any step never serves:
/// the old one keeps serving and the failure is reported. One swap at a time; a newer target that
/// arrives meanwhile is taken up when the running swap ends.
/// </summary>
public sealed class ModelReplica : ReceiveActor, IWithTimers
{
    private enum Slot { Production, Canary }
    private sealed record Prepared(Slot Slot, int Version, OnnxModel Model, ModelManifest Manifest, ModelTopics? Topics);
    private sealed record PrepareFailed(Slot Slot, int Version, Exception Cause);
    private sealed record CanaryReleased(IInferenceModel Model);
    private sealed class CheckCanary { public static readonly CheckCanary Instance = new(); }
    private sealed record CanaryRolledBack(int Version, string Reason);
    private sealed record Swapped(int Version, IInferenceModel Old);
    private sealed record PipelineEnded(Exception? Cause);
    private sealed class Drained { public static readonly Drained Instance = new(); }
    private sealed class RetryLoad { public static readonly RetryLoad Instance = new(); }
    private sealed class RestartPipeline { public static readonly RestartPipeline Instance = new(); }

    private readonly string _entityId;
    private readonly string _model;
    private readonly ServingContext _context;
    private readonly ILoggingAdapter _log = Context.GetLogger();
    private ReplicaState _state = ReplicaState.Loading;
    private string? _reason;
    private ReplicaRouter? _router;
    private ModelTopics? _topics;
    private DrainingControl<Done>? _pipeline;
    private readonly ReplicaGauges _gauges;
    private IDisposable? _untrackGauges;
    private readonly StreamHealth _stream = new();

    // Swap state, owned by the actor.
    private int? _target;
    private bool _allowBreaking;
    private int? _swapping;
    private OnnxModel? _previous;
    private (int Version, bool AllowBreaking, string Reason)? _failedTarget;
    private SwapRecord? _lastSwap;
    private int _disposedSessions;

    // Canary state, owned by the actor.
    private readonly VersionStatistics _statistics = new();
    private CanaryTarget? _canaryTarget;
    private (OnnxModel Model, DynamicBatcher Batcher)? _canary;
    private int? _canaryLoading;
    private (int Version, string Reason)? _refusedCanary;
    private SwapRecord? _lastCanaryRollback;
    private VersionStats? _lastGuardCheck;

    public ModelReplica(string entityId, ServingContext context)
    {
        _entityId = entityId;
        _model = ReplicaId.Parse(entityId).Model;
        _context = context;
        _gauges = new ReplicaGauges(_model);
        Become(Loading);
    }

    public ITimerScheduler Timers { get; set; } = null!;

    public static Props Props(string entityId, ServingContext context) => Akka.Actor.Props.Create(() => new ModelReplica(entityId, context));

    private OnnxModel? Serving => (OnnxModel?)_router?.Production.Model;

    protected override void PreStart()
    {
        _untrackGauges = _context.Metrics.Track(_gauges);
        StartInitialLoad();
    }

    protected override void PostStop()
    {
        // Drain the stream (in-flight requests finish and are committed), then stop the batcher and
        // free the ONNX sessions. Nothing here may block the actor's thread.
        _untrackGauges?.Dispose();
        var pipeline = _pipeline;
        var router = _router;
        var previous = _previous;
        var canary = _canary;
        _ = Task.Run(async () =>
        {
            if (pipeline is not null)
            {
                try { await pipeline.DrainAndShutdown().WaitAsync(TimeSpan.FromSeconds(30)); }
                catch (Exception) { /* logged by the stream; redelivery covers what was not committed */ }
            }
            if (router is not null)
            {
                await router.Production.StopAsync();
                router.Production.Model.Dispose();
            }
            previous?.Dispose();
            if (canary is { } c)
            {
                await c.Batcher.StopAsync();
                c.Model.Dispose();
            }
        });
    }

    // ---- states ----

    private void Loading()
    {
        Receive<Prepared>(OnInitialLoad);
        Receive<PrepareFailed>(failed =>
        {
            _state = ReplicaState.Failed;
            _reason = failed.Cause.Message;
            _log.Error(failed.Cause, "Replica {0} could not load version {1}: {2}", _entityId, failed.Version, failed.Cause.Message);
            Timers.StartSingleTimer(nameof(RetryLoad), RetryLoad.Instance, _context.RetryLoadAfter);
        });
        Receive<RetryLoad>(_ => StartInitialLoad());
        Receive<SetTargets>(targets =>
        {
            _target = targets.Production;
            _canaryTarget = targets.Canary;
            _allowBreaking = targets.AllowBreaking;
        });
        Receive<Infer>(_ => Sender.Tell(new InferReply.NotReady(_state == ReplicaState.Failed
            ? $"Model '{_model}' failed to load: {_reason}"
            : $"Model '{_model}' is loading.")));
        ReceiveCommon();
    }

    private void Ready()
    {
        Receive<Infer>(OnInfer);
        Receive<SetTargets>(targets =>
        {
            _target = targets.Production;
            _canaryTarget = targets.Canary;
            _allowBreaking = targets.AllowBreaking;
            MaybeStartSwap();
            ReconcileCanary();
        });
        Receive<Prepared>(prepared => { if (prepared.Slot == Slot.Canary) OnCanaryPrepared(prepared); else OnPrepared(prepared); });
        Receive<PrepareFailed>(failed => { if (failed.Slot == Slot.Canary) OnCanaryFailed(failed); else OnPrepareFailed(failed); });
        Receive<CanaryReleased>(released => DisposeSession(released.Model));
        Receive<CheckCanary>(_ => GuardCanary());
        Receive<CanaryRolledBack>(rolledBack =>
        {
            _lastCanaryRollback = new SwapRecord(rolledBack.Version, Serving!.Version, DateTimeOffset.UtcNow, true, rolledBack.Reason);
            _context.Metrics.CountRollback(_model, "canary_guard");
            Audit("canary-auto-rollback", rolledBack.Version, "ok", rolledBack.Reason);
        });
        Receive<Swapped>(OnSwapped);
        Receive<PipelineEnded>(ended =>
        {
            _pipeline = null;
            _gauges.Consumer = null;
            var failure = ServingPipeline.DescribeFailure(ended.Cause);
            _stream.Ended(failure, DateTimeOffset.UtcNow, _context.StreamStableAfter);
            _context.Metrics.CountStreamRestart(_model);
            _log.Error(ended.Cause, "Replica {0}: Kafka stream ended ({1}); starting it again in {2} (failure {3} in a row)", _entityId,
                failure, _context.RestartPipelineAfter, _stream.ConsecutiveFailures);
            Timers.StartSingleTimer(nameof(RestartPipeline), RestartPipeline.Instance, _context.RestartPipelineAfter);
        });
        Receive<RestartPipeline>(_ => StartPipeline());
        ReceiveCommon();
    }

    private void Stopping()
    {
        Receive<Drained>(_ => Context.Stop(Self));
        Receive<Infer>(_ => Sender.Tell(new InferReply.NotReady($"Model '{_model}' replica is shutting down.")));
        Receive<Prepared>(prepared => DisposeSession(prepared.Model));
        Receive<Swapped>(swapped => DisposeSession(swapped.Old));
        Receive<CanaryReleased>(released => DisposeSession(released.Model));
        ReceiveAny(_ => { });
    }

    private void ReceiveCommon()
    {
        Receive<StopReplica>(_ => OnStopReplica());
        Receive<RetireReplica>(_ =>
        {
            _log.Info("Replica {0}: model no longer served; passivating", _entityId);
            Context.Parent.Tell(new Akka.Cluster.Sharding.Passivate(StopReplica.Instance));
        });
        Receive<GetReplicaStatus>(_ => Sender.Tell(Status()));
    }

    private ReplicaStatus Status() => new(_entityId, _state, Serving?.Version, _reason, Serving?.Signature)
    {
        PreviousVersion = _previous?.Version,
        SwappingTo = _swapping,
        LastSwap = _lastSwap,
        DisposedSessions = _disposedSessions,
        Canary = _canary is { } canary ? new CanaryTarget(canary.Model.Version, _router!.CanaryWeight) : null,
        Versions = _statistics.All(),
        LastCanaryRollback = _lastCanaryRollback,
        LastGuardCheck = _lastGuardCheck,
        KafkaStream = _topics is null ? null : _stream.Status(_pipeline is not null, DateTimeOffset.UtcNow, _context.StreamStableAfter),
    };

    // ---- initial load ----

    private void StartInitialLoad()
    {
        _state = ReplicaState.Loading;
        ProductionVersionAsync()
            .ContinueWith(t => t.IsCompletedSuccessfully
                ? PrepareAsync(Slot.Production, t.Result, expected: null, withTopics: true)
                : Task.FromResult<object>(new PrepareFailed(Slot.Production, _target ?? 0, t.Exception!.GetBaseException())))
            .Unwrap()
            .PipeTo(Self);
    }

    private async Task<int> ProductionVersionAsync() =>
        _target ?? (await _context.Registry.GetAliasesAsync(_model).ConfigureAwait(false)).Production
        ?? throw new InvalidOperationException($"Model '{_model}' has no production alias in the registry.");

    private void OnInitialLoad(Prepared prepared)
    {
        _topics = prepared.Topics;
        _router = new ReplicaRouter(NewBatcher(prepared));
        _gauges.Router = _router;
        _state = ReplicaState.Ready;
        _reason = null;
        _target ??= prepared.Version;
        _log.Info("Replica {0} serving {1}", _entityId, prepared.Model);
        Become(Ready);
        StartPipeline();
        MaybeStartSwap();
        ReconcileCanary();
    }

    /// <summary>A batcher for a prepared version, reporting every batch to the metrics.</summary>
    private DynamicBatcher NewBatcher(Prepared prepared) =>
        new(prepared.Model, BatchingSettings.FromManifest(prepared.Manifest),
            logger: _context.LoggerFactory.CreateLogger<DynamicBatcher>(),
            onBatch: report => _context.Metrics.ObserveBatch(_model, report));

    /// <summary>
    /// Opens a version (sha256 and manifest checked by the registry), checks it against the serving
    /// contract, loads it into ONNX Runtime and warms it. Replies Prepared or PrepareFailed.
    /// </summary>
    private async Task<object> PrepareAsync(Slot slot, int version, ModelSignature? expected, bool withTopics)
    {
        try
        {
            var loading = Stopwatch.StartNew();
            var artifacts = await _context.Registry.OpenVersionAsync(_model, version).ConfigureAwait(false);
            if (expected is not null && expected.Differences(artifacts.Manifest.Signature) is { Count: > 0 } differences)
                throw new InvalidOperationException(
                    $"Version {version} of '{_model}' is not compatible with the serving version: {string.Join("; ", differences)}.");

            // Topics before the ONNX session, so a Kafka failure here leaves nothing to dispose.
            var topics = withTopics ? await ProvisionTopicsAsync().ConfigureAwait(false) : null;
            var model = await Task.Run(() =>
            {
                var loaded = OnnxModel.Load(artifacts, _context.OnnxOptions, _context.LoggerFactory.CreateLogger<OnnxModel>());
                try
                {
                    var loadTime = loading.Elapsed;
                    var warming = Stopwatch.StartNew();
                    loaded.WarmUp();
                    _context.Metrics.ObserveLoad(_model, version, loadTime, warming.Elapsed);
                    return loaded;
                }
                catch
                {
                    loaded.Dispose();
                    throw;
                }
            }).ConfigureAwait(false);
            return new Prepared(slot, version, model, artifacts.Manifest, topics);
        }
        catch (Exception e)
        {
            return new PrepareFailed(slot, version, e is AggregateException a ? a.GetBaseException() : e);
        }
    }

    private async Task<ModelTopics?> ProvisionTopicsAsync()
    {
        if (_context.Kafka is null || _context.Endpoint is not { } endpoint) return null;
        var provisioner = endpoint.CreateProvisioner(_context.LoggerFactory.CreateLogger<TopicProvisioner>());
        await provisioner.EnsureAsync(_context.Topics.DeclareForModel(_model)).ConfigureAwait(false);
        return ModelTopics.For(_context.Topics, _model);
    }

    // ---- hot swap ----

    private void MaybeStartSwap()
    {
        if (_swapping is not null || _target is not { } target || target == Serving!.Version) return;
        // A refused version is retried only when the target changes (or the operator forces it).
        if (_failedTarget is { } failed && failed.Version == target && failed.AllowBreaking == _allowBreaking) return;
        _swapping = target;
        if (_previous is { } previous && previous.Version == target)
        {
            // Rollback to the version kept warm: no load, switch at once.
            _previous = null;
            SwapIn(previous);
            return;
        }
        _log.Info("Replica {0}: loading version {1} beside serving version {2}", _entityId, target, Serving.Version);
        PrepareAsync(Slot.Production, target, _allowBreaking ? null : Serving.Signature, withTopics: false).PipeTo(Self);
    }

    private void OnPrepared(Prepared prepared)
    {
        if (prepared.Version != _target)
        {
            _log.Info("Replica {0}: version {1} was superseded by {2} while loading", _entityId, prepared.Version, _target);
            DisposeSession(prepared.Model);
            _swapping = null;
            MaybeStartSwap();
            return;
        }
        SwapIn(prepared.Model);
    }

    /// <summary>Switch between batches; the batcher hands back the old model once no batch runs on it.</summary>
    private void SwapIn(OnnxModel model)
    {
        var batcher = _router!.Production;
        batcher.SwapModelAsync(model).PipeTo(Self, success: old => new Swapped(model.Version, old));
    }

    private void OnSwapped(Swapped swapped)
    {
        var from = swapped.Old.Version;
        _swapping = null;
        _failedTarget = null;
        if (_previous is not null) DisposeSession(_previous);
        _previous = null;
        if (_context.KeepPreviousVersion) _previous = (OnnxModel)swapped.Old;
        else DisposeSession(swapped.Old);
        _lastSwap = new SwapRecord(from, swapped.Version, DateTimeOffset.UtcNow, true, null);
        _log.Info("Replica {0}: now serving version {1} (was {2})", _entityId, swapped.Version, from);
        Audit("swap", swapped.Version, "ok", $"version {from} → {swapped.Version}");
        _context.Metrics.CountSwap(_model, succeeded: true);
        MaybeStartSwap();
    }

    private void OnPrepareFailed(PrepareFailed failed)
    {
        _swapping = null;
        _failedTarget = (failed.Version, _allowBreaking, failed.Cause.Message);
        _lastSwap = new SwapRecord(Serving?.Version, failed.Version, DateTimeOffset.UtcNow, false, failed.Cause.Message);
        _log.Error(failed.Cause, "Replica {0}: version {1} refused, version {2} keeps serving: {3}",
            _entityId, failed.Version, Serving?.Version, failed.Cause.Message);
        Audit("swap", failed.Version, "refused", $"version {Serving?.Version} keeps serving: {failed.Cause.Message}");
        _context.Metrics.CountSwap(_model, succeeded: false);
        MaybeStartSwap();
    }

    /// <summary>Records what the replica did on its own (the admin API records what operators asked for).</summary>
    private void Audit(string action, int version, string result, string? detail) =>
        _context.Audit?.WriteAsync(new AuditEvent(Guid.NewGuid().ToString("N"), DateTimeOffset.UtcNow,
            $"replica:{_entityId}", action, _model, version, result, detail));

    private void DisposeSession(IInferenceModel model)
    {
        model.Dispose();
        _disposedSessions++;
    }

    // ---- canary ----

    /// <summary>Bring the canary in line with its target: load it beside production, change its weight, or withdraw it.</summary>
    private void ReconcileCanary()
    {
        var target = _canaryTarget;
        if (_canary is { } current && (target is null || target.Version != current.Model.Version))
            WithdrawCanary($"target changed to {(target is null ? "none" : $"version {target.Version}")}");
        if (target is null) return;
        if (_canary is { } loaded)
        {
            _router!.SetCanary(loaded.Batcher, target.Weight);
            return;
        }
        if (_canaryLoading is not null || _refusedCanary?.Version == target.Version) return;
        _canaryLoading = target.Version;
        _log.Info("Replica {0}: loading canary version {1} beside production version {2}", _entityId, target.Version, Serving!.Version);
        PrepareAsync(Slot.Canary, target.Version, Serving.Signature, withTopics: false).PipeTo(Self);
    }

    private void OnCanaryPrepared(Prepared prepared)
    {
        _canaryLoading = null;
        if (_canaryTarget?.Version != prepared.Version)
        {
            DisposeSession(prepared.Model);
            ReconcileCanary();
            return;
        }
        var batcher = NewBatcher(prepared);
        _canary = (prepared.Model, batcher);
        _statistics.Reset(prepared.Version);
        _router!.SetCanary(batcher, _canaryTarget.Weight);
        _log.Info("Replica {0}: canary version {1} serves {2:P0} of requests", _entityId, prepared.Version, _canaryTarget.Weight);
        if (_context.CanaryGuard is not null)
            Timers.StartPeriodicTimer(nameof(CheckCanary), CheckCanary.Instance, _context.CanaryGuard.CheckEvery);
    }

    private void OnCanaryFailed(PrepareFailed failed)
    {
        _canaryLoading = null;
        _refusedCanary = (failed.Version, failed.Cause.Message);
        _log.Error(failed.Cause, "Replica {0}: canary version {1} refused: {2}", _entityId, failed.Version, failed.Cause.Message);
        Audit("canary-load", failed.Version, "refused", failed.Cause.Message);
        ReconcileCanary();
    }

    /// <summary>Stop routing to the canary; its batcher finishes what it holds, then its session is released.</summary>
    private void WithdrawCanary(string why)
    {
        if (_canary is not { } canary) return;
        _router!.ClearCanary();
        _canary = null;
        Timers.Cancel(nameof(CheckCanary));
        _log.Info("Replica {0}: canary version {1} withdrawn ({2})", _entityId, canary.Model.Version, why);
        canary.Batcher.StopAsync().ContinueWith(_ => (object)new CanaryReleased(canary.Model), TaskScheduler.Default).PipeTo(Self);
    }

    /// <summary>
    /// The automatic rollback: once the canary has served enough requests, an error rate or p99
    /// latency over the guard's thresholds withdraws it here at once and removes the canary alias
    /// from the registry, so no replica loads it again.
    /// </summary>
    private void GuardCanary()
    {
        if (_canary is not { } canary || _context.CanaryGuard is not { } guard) return;
        var stats = _statistics.Of(canary.Model.Version);
        _lastGuardCheck = stats;
        if (guard.Breach(stats) is not { } breach) return;
        var version = canary.Model.Version;
        _refusedCanary = (version, $"rolled back automatically: {breach}");
        _log.Warning("Replica {0}: canary version {1} rolled back automatically: {2}", _entityId, version, breach);
        WithdrawCanary("automatic rollback");
        _context.Registry.SetAliasAsync(_model, ModelAliases.CanaryAlias, null).PipeTo(Self,
            success: _ => new CanaryRolledBack(version, breach),
            failure: e => new CanaryRolledBack(version, $"{breach}; removing the canary alias failed: {e.Message}"));
    }

    // ---- serving ----

    private void StartPipeline()
    {
        if (_topics is not { } topics || _context.Kafka is not { } kafka || _router is null) return;
        _pipeline = new ServingPipeline(_model, topics, _router, _statistics, _context.Metrics).Run(kafka, Context.Materializer());
        _stream.Started(DateTimeOffset.UtcNow);
        _gauges.Consumer = _pipeline;
        _pipeline.StreamCompletion.PipeTo(Self, success: _ => new PipelineEnded(null), failure: e => new PipelineEnded(e));
    }

    private void OnInfer(Infer infer)
    {
        var serving = Serving!;
        if (infer.Version is { } wanted && wanted != serving.Version)
        {
            if (_canary is { } canary && canary.Model.Version == wanted)
            {
                RunInference(_ => canary.Batcher, infer.RequestJson).PipeTo(Sender);
                return;
            }
            Sender.Tell(new InferReply.NotFound($"Version {wanted} of model '{_model}' is not being served (serving {serving.Version})."));
            return;
        }
        RunInference(_router!.Route, infer.RequestJson).PipeTo(Sender);
    }

    /// <summary>
    /// Decoding and batching happen on the thread pool; the reply goes straight to the caller. Only
    /// immutable state is captured, never the actor's own fields, since this runs off its thread.
    /// </summary>
    private Task<InferReply> RunInference(Func<string, DynamicBatcher> route, byte[] json)
    {
        var (model, statistics, metrics) = (_model, _statistics, _context.Metrics);
        var servedEvents = _topics is { } topics && _context.HttpServedEvents is { } events ? (Topic: topics.Served, Sink: events) : default;
        return Run();

        async Task<InferReply> Run()
        {
            var receivedAt = DateTimeOffset.UtcNow;
            if (!InferenceCodec.TryDecodeRequest(json, out var request, out var error))
                return new InferReply.Invalid(error);
            var result = await route(request.Id).Enqueue(request).ConfigureAwait(false);
            statistics.Record(result);
            metrics.ObserveQueueTime(model, result);
            if (result.IsServed)
            {
                servedEvents.Sink?.Publish(model, servedEvents.Topic, request, result, receivedAt, DateTimeOffset.UtcNow);
                return new InferReply.Served(ServingRecords.Prediction(model, result.ModelVersion, request, result.Outputs!), result.ModelVersion);
            }
            if (result.Error is { } invalid) return new InferReply.Invalid(invalid);
            return new InferReply.Rejected(result.Rejection!);
        }
    }

    // ---- stopping ----

    private void OnStopReplica()
    {
        Timers.CancelAll();
        var pipeline = _pipeline;
        if (pipeline is null)
        {
            Context.Stop(Self);
            return;
        }
        _log.Info("Replica {0} draining its Kafka stream before stopping", _entityId);
        Become(Stopping);
        pipeline.DrainAndShutdown().PipeTo(Self, success: _ => Drained.Instance, failure: _ => Drained.Instance);
    }
}
