using Akka;
using Akka.Actor;
using Akka.Event;
using Akka.Streams;
using Mlops.Stream.Actors.Metrics;
using Mlops.Stream.Inference.Caching;
using Mlops.Stream.Inference.Gateway;
using Mlops.Stream.Inference.Wire;
using Mlops.Stream.Kafka.Dsl;

namespace Mlops.Stream.Actors.Serving;

/// <summary>
/// One replica of one model (a sharded entity, id <c>&lt;model&gt;#&lt;n&gt;</c>): it serves the
/// production version (and a canary) through dynamic batchers, and owns the model's Kafka stream
/// (consumer group <c>mlops-serve.&lt;model&gt;</c>), materialized here so it dies with the actor.
/// States: Loading (requests get NotReady) → Ready, or Failed (retried after
/// <see cref="ServingContext.RetryLoadAfter"/>) → Stopping (drains the stream). Under the node's
/// memory budget (<see cref="ServingContext.ModelCache"/>) a ready replica may be unloaded: checked but
/// without a session (no room at start, or evicted: Ready → Unloading → Unloaded); its next request
/// loads it again (a cold start) while the request waits, and its Kafka stream runs only while loaded; while unloaded
/// it reads its request topic's backlog now and then, and records waiting load it the same way. Every session it holds
/// (production, a swap's new version, the previous version, a canary) counts in the budget. The work is done off
/// the actor's thread by helpers it owns: <see cref="VersionLoader"/>, <see cref="VersionSwapper"/>,
/// <see cref="CanaryController"/>, <see cref="ReplicaInference"/> (the one inference path of HTTP
/// and Kafka) and <see cref="ServingPipeline"/>; their outcomes come back as messages.
/// </summary>
public sealed class ModelReplica : ReceiveActor, IWithTimers
{
    /// <summary>A Kafka stream ended; <paramref name="Pipeline"/> says which, since one drained by an eviction may end after the next load started another.</summary>
    private sealed record PipelineEnded(Exception? Cause, DrainingControl<Done> Pipeline);
    private sealed class Drained { public static readonly Drained Instance = new(); }
    private sealed class RetryLoad { public static readonly RetryLoad Instance = new(); }
    private sealed class RestartPipeline { public static readonly RestartPipeline Instance = new(); }
    private sealed class TopicsReady { public static readonly TopicsReady Instance = new(); }
    private sealed class Evict { public static readonly Evict Instance = new(); }
    private sealed class UnloadDone { public static readonly UnloadDone Instance = new(); }
    private sealed record TopicsUnavailable(string Reason);
    private sealed class CheckBacklog { public static readonly CheckBacklog Instance = new(); }
    private sealed record BacklogRead(IReadOnlyList<PartitionBacklog>? Reading, string? Error);

    /// <summary>First and longest wait between tries to make sure of the topics while Kafka does not answer.</summary>
    private static readonly TimeSpan FirstKafkaRetry = TimeSpan.FromSeconds(1), MaxKafkaRetry = TimeSpan.FromSeconds(30);

    private readonly string _entityId;
    private readonly string _model;
    private readonly ServingContext _context;
    private readonly ILoggingAdapter _log = Context.GetLogger();
    private readonly VersionLoader _loader;
    private readonly ReplicaJournal _journal;
    private readonly VersionStatistics _statistics = new();
    private readonly StreamHealth _stream = new();
    private readonly ReplicaGauges _gauges;
    private IDisposable? _untrackGauges;
    private IDisposable? _unregister;
    private ReplicaState _state = ReplicaState.Loading;
    private string? _reason;
    private SetTargets? _targets;
    private ReplicaServing? _serving;
    private DrainingControl<Done>? _pipeline;
    private readonly ModelCacheEntry _cache;
    private readonly WaitingRequests _waiting;

    /// <summary>The production version checked and known to serve while the replica holds no session, and its signature; null while loaded.</summary>
    private int? _unloadedVersion;
    private ModelSignature? _unloadedSignature;

    /// <summary>A production load runs (at most one at a time), and since when for a cold start.</summary>
    private bool _loading;
    private System.Diagnostics.Stopwatch? _coldStart;

    /// <summary>Why the model's topics are not made sure of yet (Kafka did not answer); null once they are.</summary>
    private string? _waitingForKafka;
    private TimeSpan _kafkaRetry = FirstKafkaRetry;

    /// <summary>While unloaded: whether records wait in the request topic with nobody consuming them, and whether a read runs.</summary>
    private readonly BacklogWatch _backlog = new();
    private bool _readingBacklog;

    public ModelReplica(string entityId, ServingContext context)
    {
        _entityId = entityId;
        _model = ReplicaId.Parse(entityId).Model;
        _context = context;
        var self = Self;
        _cache = context.ModelCache.Register(entityId, () => self.Tell(Evict.Instance));
        _loader = new VersionLoader(_model, context, _cache);
        _journal = new ReplicaJournal(entityId, _model, context.Audit, _cache);
        _gauges = new ReplicaGauges(_model, entityId);
        _waiting = new WaitingRequests(_model, context.MaxRequestsWaitingForLoad);
        Become(Loading);
    }

    public ITimerScheduler Timers { get; set; } = null!;

    public static Props Props(string entityId, ServingContext context) => Akka.Actor.Props.Create(() => new ModelReplica(entityId, context));

    protected override void PreStart()
    {
        _untrackGauges = _context.Metrics.Track(_gauges);
        _unregister = _context.LocalReplicas?.Add(_entityId, _model, Self);
        StartInitialLoad();
    }

    protected override void PostStop()
    {
        // Drain the stream (in-flight requests finish and are committed), then stop the batchers and
        // free the ONNX sessions. Nothing here may block the actor's thread.
        _untrackGauges?.Dispose();
        _unregister?.Dispose();
        _waiting.AnswerAll(new InferReply.NotReady($"Model '{_model}' replica is shutting down."));
        var (pipeline, serving, cache) = (_pipeline, _serving, _cache);
        _ = Task.Run(async () =>
        {
            await UnloadAsync(pipeline, serving);
            cache.Dispose();
        });
    }

    /// <summary>Drains the stream (in-flight requests finish and are committed), then stops the batchers and frees the ONNX sessions.</summary>
    private static async Task UnloadAsync(DrainingControl<Done>? pipeline, ReplicaServing? serving)
    {
        if (pipeline is not null)
        {
            try { await pipeline.DrainAndShutdown().WaitAsync(TimeSpan.FromSeconds(30)); }
            catch (Exception) { /* logged by the stream; redelivery covers what was not committed */ }
        }
        if (serving is not null) await serving.StopAsync();
    }

    private void Loading()
    {
        Receive<VersionPrepared>(prepared =>
        {
            _loading = false;
            OnInitialLoad(prepared);
        });
        Receive<VersionLeftUnloaded>(left =>
        {
            _loading = false;
            _log.Info("Replica {0}: version {1} checked; the node's memory budget has no room to load it now, so it loads on its first request",
                _entityId, left.Version);
            BecomeUnloaded(left.Version, left.Signature);
        });
        Receive<VersionPrepareFailed>(OnLoadFailed);
        Receive<RetryLoad>(_ => StartInitialLoad());
        Receive<SetTargets>(OnTargets);
        Receive<Infer>(_ => Sender.Tell(new InferReply.NotReady(_state == ReplicaState.Failed
            ? $"Model '{_model}' failed to load: {_reason}"
            : $"Model '{_model}' is loading.")));
        ReceiveCommon();
    }

    private void Ready(ReplicaServing serving)
    {
        Receive<Infer>(infer => OnInfer(serving, infer));
        Receive<Evict>(_ => StartUnload(serving));
        Receive<SetTargets>(targets =>
        {
            OnTargets(targets);
            serving.Swapper.Retarget(targets.Production, targets.AllowBreaking);
            serving.Canary.Retarget(targets.Canary);
        });
        Receive<VersionPrepared>(prepared =>
        {
            TakeSideLoad(prepared);
            if (prepared.Slot == VersionSlot.Canary) serving.Canary.OnPrepared(prepared);
            else serving.Swapper.OnPrepared(prepared);
        });
        Receive<VersionPrepareFailed>(failed =>
        {
            EndSideLoad(failed.Beside);
            // No room in the budget beside what the model holds: the version kept for rollback goes first, then the load is tried again.
            if (failed.Cause is ModelCacheRefusal refusal && serving.Swapper.DropPrevious(refusal.Message))
            {
                if (failed.Slot == VersionSlot.Canary) serving.Canary.RetryLoad();
                else serving.Swapper.RetryLoad();
                return;
            }
            if (failed.Slot == VersionSlot.Canary) serving.Canary.OnFailed(failed);
            else serving.Swapper.OnFailed(failed);
        });
        Receive<VersionSwapper.Swapped>(serving.Swapper.OnSwapped);
        Receive<VersionSwapper.ProductionRestored>(serving.Swapper.OnProductionRestored);
        Receive<CanaryController.Released>(released => _journal.Release(released.Model));
        Receive<CanaryController.Check>(_ => serving.Canary.Guard());
        Receive<CanaryController.RolledBack>(serving.Canary.OnRolledBack);
        Receive<PipelineEnded>(OnPipelineEnded);
        Receive<RestartPipeline>(_ => StartPipeline(serving));
        Receive<TopicsReady>(_ =>
        {
            if (_waitingForKafka is not null) _log.Info("Replica {0}: Kafka answers again; its topics are there, starting the Kafka stream", _entityId);
            _waitingForKafka = null;
            _kafkaRetry = FirstKafkaRetry;
            StartPipeline(serving);
        });
        Receive<TopicsUnavailable>(unavailable => WaitForKafka(unavailable.Reason));
        ReceiveCommon();
    }

    /// <summary>Evicted: the stream drains and the sessions are freed; requests wait for the load that follows.</summary>
    private void Unloading()
    {
        Receive<UnloadDone>(_ =>
        {
            _cache.Released();
            BecomeUnloaded(_unloadedVersion!.Value, _unloadedSignature!);
        });
        Receive<Infer>(infer => _waiting.Add(Sender, infer));
        Receive<SetTargets>(OnTargets);
        ReleaseLateLoads();
    }

    /// <summary>Checked, no session: a request starts a cold load and waits for it; a new production version is checked (and loaded when there is room).</summary>
    private void Unloaded()
    {
        Receive<Infer>(infer =>
        {
            _waiting.Add(Sender, infer);
            StartColdLoad("a request");
        });
        Receive<CheckBacklog>(_ => ReadBacklog());
        Receive<BacklogRead>(OnBacklogRead);
        Receive<SetTargets>(targets =>
        {
            OnTargets(targets);
            if (targets.Production != _unloadedVersion && !_loading) StartProductionLoad(CacheAdmission.IfRoom);
        });
        Receive<VersionPrepared>(prepared => prepared.Admitted, prepared =>
        {
            _loading = false;
            if (_coldStart is { } since) _context.Metrics.ObserveColdStart(since.Elapsed);
            _coldStart = null;
            OnInitialLoad(prepared);
            _waiting.ResendTo(Self);
        });
        Receive<VersionLeftUnloaded>(left =>
        {
            _loading = false;
            (_unloadedVersion, _unloadedSignature) = (left.Version, left.Signature);
            if (_waiting.Count > 0) StartColdLoad("a request");
        });
        Receive<VersionPrepareFailed>(failed => failed.Admitted, failed =>
        {
            _loading = false;
            _coldStart = null;
            if (failed.Cause is ModelCacheRefusal refusal)
            {
                _log.Warning("Replica {0}: {1}", _entityId, refusal.Message);
                _backlog.Refused();
                _waiting.AnswerAll(refusal.Reason == ModelCacheRefusal.Kind.Busy
                    ? new InferReply.NotReady(refusal.Message)
                    : new InferReply.OverMemoryBudget(refusal.Message));
                return;
            }
            _waiting.AnswerAll(new InferReply.NotReady($"Model '{_model}' failed to load: {failed.Cause.Message}"));
            Become(Loading);
            OnLoadFailed(failed);
        });
        ReleaseLateLoads();
    }

    /// <summary>
    /// Outcomes of swaps and canaries started while the version was loaded arrive after its eviction:
    /// their sessions are freed; timers of the unloaded version (canary checks, stream restarts) are dropped.
    /// </summary>
    private void ReleaseLateLoads()
    {
        Receive<VersionPrepared>(ReleaseLateLoad);
        Receive<VersionPrepareFailed>(failed => EndSideLoad(failed.Beside));
        Receive<VersionSwapper.Swapped>(swapped => _journal.Release(swapped.Old));
        Receive<CanaryController.Released>(released => _journal.Release(released.Model));
        ReceiveCommon();
        ReceiveAny(_ => { });
    }

    private void Stopping()
    {
        Receive<Drained>(_ => Context.Stop(Self));
        Receive<Infer>(_ => Sender.Tell(new InferReply.NotReady($"Model '{_model}' replica is shutting down.")));
        Receive<VersionPrepared>(ReleaseLateLoad);
        Receive<VersionPrepareFailed>(failed => EndSideLoad(failed.Beside));
        Receive<VersionSwapper.Swapped>(swapped => _journal.Release(swapped.Old));
        Receive<CanaryController.Released>(released => _journal.Release(released.Model));
        ReceiveAny(_ => { });
    }

    /// <summary>A version whose load ended after the replica stopped wanting it: its session is freed, and a load beside the others ends.</summary>
    private void ReleaseLateLoad(VersionPrepared prepared)
    {
        _journal.Release(prepared.Model);
        EndSideLoad(prepared.Beside);
    }

    private void ReceiveCommon()
    {
        // Backlog checks of an unloaded model that end after it loaded (or began loading again) are moot.
        Receive<CheckBacklog>(_ => { });
        Receive<BacklogRead>(_ => _readingBacklog = false);
        Receive<StopReplica>(_ => OnStopReplica());
        Receive<RetireReplica>(_ =>
        {
            _log.Info("Replica {0}: no longer in the model's plan (undeployed or scaled down); passivating", _entityId);
            _context.LocalReplicas?.SetReady(_entityId, false);
            Context.Parent.Tell(new Akka.Cluster.Sharding.Passivate(StopReplica.Instance));
        });
        Receive<GetReplicaStatus>(_ => Sender.Tell(Status()));
    }

    private ReplicaStatus Status()
    {
        var serving = _serving?.Router.Production.Model;
        // An unloaded replica answers from what it checked, so a status read never reads the registry for it.
        return new ReplicaStatus(_entityId, _state, serving?.Version ?? _unloadedVersion, _reason, serving?.Signature ?? _unloadedSignature)
        {
            Loaded = serving is not null,
            Pinned = _cache.Pinned,
            PreviousVersion = _serving?.Swapper.Previous?.Version,
            SwappingTo = _serving?.Swapper.SwappingTo,
            LastSwap = _serving?.Swapper.LastSwap,
            DisposedSessions = _journal.DisposedSessions,
            Canary = _serving?.Canary.Serving,
            Versions = _statistics.All(),
            LastCanaryRollback = _serving?.Canary.LastRollback,
            LastGuardCheck = _serving?.Canary.LastGuardCheck,
            KafkaStream = _serving?.Topics is null ? null : StreamStatus() with { WaitingForKafka = _pipeline is null ? _waitingForKafka : null },
            QueueDepth = QueueDepth(),
        };
    }

    private int QueueDepth() => _serving is not { Router: var router }
        ? 0
        : router.Production.GetCounters().QueueDepth + (router.CanaryBatcher?.GetCounters().QueueDepth ?? 0);

    private KafkaStreamStatus StreamStatus()
    {
        var status = _stream.Status(_pipeline is not null, DateTimeOffset.UtcNow, _context.StreamStableAfter);
        if (_pipeline?.Metrics is not { } consumer) return status;
        return status with
        {
            // An array, not a collection expression: the status crosses nodes, and Akka's JSON serializer
            // cannot rebuild the compiler's hidden read-only list type.
            Partitions = consumer.AssignedPartitions.Select(p => p.Partition.Value).Order().ToArray(),
            Lag = consumer.Lag.Count == 0 ? null : consumer.Lag.Values.Sum(),
        };
    }

    private void StartInitialLoad()
    {
        _state = ReplicaState.Loading;
        StartProductionLoad(CacheAdmission.IfRoom);
    }

    private void StartProductionLoad(CacheAdmission admission)
    {
        _loading = true;
        _loader.PrepareProduction(_targets?.Production ?? _unloadedVersion, Self, admission);
    }

    /// <param name="cause">What asks for the model (for the log): a request, or records waiting in its request topic.</param>
    private void StartColdLoad(string cause)
    {
        if (_loading) return;
        _coldStart = System.Diagnostics.Stopwatch.StartNew();
        _log.Info("Replica {0}: {1} for unloaded version {2}; loading it", _entityId, cause, _targets?.Production ?? _unloadedVersion);
        StartProductionLoad(CacheAdmission.Cold);
    }

    /// <summary>
    /// Unloaded with Kafka: records written to the request topic find no consumer until the model
    /// loads, so the replica reads the topic's backlog every <see cref="ServingContext.BacklogCheckInterval"/>
    /// and loads the model (a cold start through the node's budget, as for an HTTP request) when records wait.
    /// </summary>
    private void WatchBacklog()
    {
        if (_context.RequestBacklog is null || _context.Kafka is null) return;
        _backlog.Reset();
        Timers.StartPeriodicTimer(nameof(CheckBacklog), CheckBacklog.Instance, _context.BacklogCheckInterval);
    }

    private void ReadBacklog()
    {
        if (_loading || _readingBacklog || _context.RequestBacklog is not { } backlog || !_backlog.ShouldRead()) return;
        _readingBacklog = true;
        backlog.ReadAsync(_model, CancellationToken.None).PipeTo(Self,
            success: reading => new BacklogRead(reading, null),
            failure: e => new BacklogRead(null, e.GetBaseException().Message));
    }

    private void OnBacklogRead(BacklogRead read)
    {
        _readingBacklog = false;
        if (read.Reading is not { } reading)
        {
            _log.Debug("Replica {0}: could not read its request topic's backlog ({1}); reading it again in {2}", _entityId, read.Error,
                _context.BacklogCheckInterval);
            return;
        }
        if (_loading) return;
        var waiting = _backlog.Stalled(reading);
        if (waiting > 0) StartColdLoad($"{waiting} records waiting in its request topic");
    }

    private void OnTargets(SetTargets targets)
    {
        _targets = targets;
        _cache.SetPinned(targets.Pinned);
    }

    private void OnLoadFailed(VersionPrepareFailed failed)
    {
        Timers.Cancel(nameof(CheckBacklog));
        _loading = false;
        _state = ReplicaState.Failed;
        _reason = failed.Cause.Message;
        (_unloadedVersion, _unloadedSignature) = (null, null);
        _log.Error(failed.Cause, "Replica {0} could not load version {1}: {2}", _entityId, failed.Version, failed.Cause.Message);
        Timers.StartSingleTimer(nameof(RetryLoad), RetryLoad.Instance, _context.RetryLoadAfter);
    }

    private void BecomeUnloaded(int version, ModelSignature signature)
    {
        _state = ReplicaState.Ready;
        _reason = null;
        (_unloadedVersion, _unloadedSignature) = (version, signature);
        _context.LocalReplicas?.SetReady(_entityId, true);
        Become(Unloaded);
        WatchBacklog();
        if (_waiting.Count > 0) StartColdLoad("a request");
    }

    /// <summary>
    /// The node's model cache chose this idle replica to make room: the stream drains (what it took is
    /// finished and committed), the batchers stop and the sessions are freed, then the cache is told.
    /// </summary>
    private void StartUnload(ReplicaServing serving)
    {
        _log.Info("Replica {0}: unloading version {1} to make room in the node's memory budget", _entityId, serving.Router.Production.Model.Version);
        (_unloadedVersion, _unloadedSignature) = (serving.Router.Production.Model.Version, serving.Router.Production.Model.Signature);
        var pipeline = _pipeline;
        _pipeline = null;
        _serving = null;
        _journal.ForgetHeld();
        _gauges.Consumer = null;
        _gauges.Router = null;
        Timers.Cancel(nameof(RestartPipeline));
        Become(Unloading);
        UnloadAsync(pipeline, serving).PipeTo(Self, success: () => UnloadDone.Instance, failure: _ => UnloadDone.Instance);
    }

    private void OnInitialLoad(VersionPrepared prepared)
    {
        Timers.Cancel(nameof(CheckBacklog));
        _backlog.Loaded();
        // Evictable from now on: an eviction chosen earlier could reach the replica before the version it evicts.
        if (prepared.Admitted) _cache.MarkLoaded();
        _journal.Hold(prepared.Model, prepared.Bytes);
        var router = new ReplicaRouter(_loader.NewBatcher(prepared));
        var servedEvents = prepared.Topics is { } topics && _context.HttpServedEvents is { } events ? (events, topics.Served) : default((HttpServedEvents, string)?);
        var identity = new ReplicaIdentity(_entityId, _model, Self, _log);
        (_unloadedVersion, _unloadedSignature) = (null, null);
        var serving = new ReplicaServing(
            router,
            new ReplicaInference(_model, router, _statistics, _context.Metrics, servedEvents, _cache),
            new VersionSwapper(identity, _context, _loader, router, _journal, _targets?.Production ?? prepared.Version),
            new CanaryController(identity, _context, _loader, router, _statistics, _journal, Timers),
            prepared.Topics);
        _serving = serving;
        _gauges.Router = router;
        _state = ReplicaState.Ready;
        _reason = null;
        _context.LocalReplicas?.SetReady(_entityId, true);
        _log.Info("Replica {0} serving {1}", _entityId, prepared.Model);
        Become(() => Ready(serving));
        if (prepared.TopicsProblem is { } problem) WaitForKafka(problem);
        else StartPipeline(serving);
        serving.Swapper.Retarget(_targets?.Production ?? prepared.Version, _targets?.AllowBreaking ?? false);
        serving.Canary.Retarget(_targets?.Canary);
    }

    /// <summary>A version loaded beside the serving one counts in the budget from now on; the load held the model in flight until here.</summary>
    private void TakeSideLoad(VersionPrepared prepared)
    {
        if (!prepared.Beside) return;
        _journal.Hold(prepared.Model, prepared.Bytes);
        _cache.Exit();
    }

    private void EndSideLoad(bool beside)
    {
        if (beside) _cache.Exit();
    }

    private void StartPipeline(ReplicaServing serving)
    {
        if (serving.Topics is not { } topics || _context.Kafka is not { } kafka) return;
        if (_waitingForKafka is not null)
        {
            _loader.ProvisionTopicsAsync().PipeTo(Self, success: _ => TopicsReady.Instance, failure: e => new TopicsUnavailable(e.GetBaseException().Message));
            return;
        }
        _pipeline = new ServingPipeline(serving.Inference, topics, replica: _entityId, log: _log).Run(kafka, Context.Materializer());
        _stream.Started(DateTimeOffset.UtcNow);
        _gauges.Consumer = _pipeline;
        var pipeline = _pipeline;
        _pipeline.StreamCompletion.PipeTo(Self, success: _ => new PipelineEnded(null, pipeline), failure: e => new PipelineEnded(e, pipeline));
    }

    /// <summary>
    /// Kafka did not answer when the model's topics were to be made sure of: the replica serves HTTP
    /// and tries again, backing off, until they are there; then its stream starts. Not a stream
    /// failure: the model stays ready for HTTP, and the wait shows in its status.
    /// </summary>
    private void WaitForKafka(string reason)
    {
        if (_waitingForKafka is null)
            _log.Warning("Replica {0}: Kafka does not answer ({1}); serving HTTP only, and trying again until it does", _entityId, reason);
        _waitingForKafka = reason;
        Timers.StartSingleTimer(nameof(RestartPipeline), RestartPipeline.Instance, _kafkaRetry);
        _kafkaRetry = TimeSpan.FromTicks(Math.Min(_kafkaRetry.Ticks * 2, MaxKafkaRetry.Ticks));
    }

    private void OnPipelineEnded(PipelineEnded ended)
    {
        if (ended.Pipeline != _pipeline) return;   // the stream of a version evicted earlier, drained on purpose
        _pipeline = null;
        _gauges.Consumer = null;
        var failure = ServingPipeline.DescribeFailure(ended.Cause);
        _stream.Ended(failure, DateTimeOffset.UtcNow, _context.StreamStableAfter);
        _context.Metrics.CountStreamRestart(_model);
        _log.Error(ended.Cause, "Replica {0}: Kafka stream ended ({1}); starting it again in {2} (failure {3} in a row)", _entityId,
            failure, _context.RestartPipelineAfter, _stream.ConsecutiveFailures);
        Timers.StartSingleTimer(nameof(RestartPipeline), RestartPipeline.Instance, _context.RestartPipelineAfter);
    }

    /// <summary>A request for a version by number goes to that version (production or canary); otherwise the router picks.</summary>
    /// <remarks>
    /// The request counts as in flight in the node's model cache until it is answered, so the replica is
    /// not evicted meanwhile; when the cache has already chosen it for eviction, the request waits for
    /// the load that follows.
    /// </remarks>
    private void OnInfer(ReplicaServing serving, Infer infer)
    {
        var production = serving.Router.Production;
        if (infer.Version is { } wanted && wanted != production.Model.Version && serving.Canary.BatcherOf(wanted) is null)
        {
            Sender.Tell(new InferReply.NotFound($"Version {wanted} of model '{_model}' is not being served (serving {production.Model.Version})."));
            return;
        }
        if (!_cache.TryEnter())
        {
            _waiting.Add(Sender, infer);
            return;
        }
        var pinned = infer.Version is { } version && version != production.Model.Version ? serving.Canary.BatcherOf(version) : null;
        InFlight(serving.Inference.InferAsync(infer.RequestJson, pinned)).PipeTo(Sender);
    }

    private async Task<InferReply> InFlight(Task<InferReply> inference)
    {
        try
        {
            return await inference.ConfigureAwait(false);
        }
        finally
        {
            _cache.Exit();
        }
    }

    private void OnStopReplica()
    {
        Timers.CancelAll();
        _context.LocalReplicas?.SetReady(_entityId, false);
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
