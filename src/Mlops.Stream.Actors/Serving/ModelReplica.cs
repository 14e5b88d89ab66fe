using Akka;
using Akka.Actor;
using Akka.Event;
using Akka.Streams;
using Microsoft.Extensions.Logging;
using Mlops.Stream.Actors.Batching;
using Mlops.Stream.Actors.Onnx;
using Mlops.Stream.Actors.Wire;
using Mlops.Stream.Kafka.Dsl;
using Mlops.Stream.Kafka.Topics;

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
/// </summary>
public sealed class ModelReplica : ReceiveActor, IWithTimers
{
    private sealed record Loaded(OnnxModel Model, DynamicBatcher Batcher, ModelTopics? Topics);
    private sealed record LoadFailed(Exception Cause);
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
    private Loaded? _loaded;
    private DrainingControl<Done>? _pipeline;

    public ModelReplica(string entityId, ServingContext context)
    {
        _entityId = entityId;
        _model = ReplicaId.Parse(entityId).Model;
        _context = context;
        Become(Loading);
    }

    public ITimerScheduler Timers { get; set; } = null!;

    public static Props Props(string entityId, ServingContext context) => Akka.Actor.Props.Create(() => new ModelReplica(entityId, context));

    protected override void PreStart() => StartLoading();

    protected override void PostStop()
    {
        // Drain the stream (in-flight requests finish and are committed), then stop the batcher and
        // free the ONNX session. Nothing here may block the actor's thread.
        var pipeline = _pipeline;
        var loaded = _loaded;
        _ = Task.Run(async () =>
        {
            if (pipeline is not null)
            {
                try { await pipeline.DrainAndShutdown().WaitAsync(TimeSpan.FromSeconds(30)); }
                catch (Exception) { /* logged by the stream; redelivery covers what was not committed */ }
            }
            if (loaded is not null)
            {
                await loaded.Batcher.StopAsync();
                loaded.Model.Dispose();
            }
        });
    }

    private void Loading()
    {
        Receive<Loaded>(OnLoaded);
        Receive<LoadFailed>(failed =>
        {
            _state = ReplicaState.Failed;
            _reason = failed.Cause.Message;
            _log.Error(failed.Cause, "Replica {0} could not load its model: {1}", _entityId, failed.Cause.Message);
            Timers.StartSingleTimer(nameof(RetryLoad), RetryLoad.Instance, _context.RetryLoadAfter);
        });
        Receive<RetryLoad>(_ => StartLoading());
        Receive<Infer>(_ => Sender.Tell(new InferReply.NotReady(_state == ReplicaState.Failed
            ? $"Model '{_model}' failed to load: {_reason}"
            : $"Model '{_model}' is loading.")));
        ReceiveCommon();
    }

    private void Ready()
    {
        Receive<Infer>(OnInfer);
        Receive<PipelineEnded>(ended =>
        {
            _pipeline = null;
            _log.Warning("Replica {0}: Kafka stream ended ({1}); starting it again in {2}", _entityId,
                ended.Cause?.Message ?? "completed", _context.RestartPipelineAfter);
            Timers.StartSingleTimer(nameof(RestartPipeline), RestartPipeline.Instance, _context.RestartPipelineAfter);
        });
        Receive<RestartPipeline>(_ => StartPipeline());
        ReceiveCommon();
    }

    private void Stopping()
    {
        Receive<Drained>(_ => Context.Stop(Self));
        Receive<Infer>(_ => Sender.Tell(new InferReply.NotReady($"Model '{_model}' replica is shutting down.")));
        Receive<StopReplica>(_ => { });
        ReceiveAny(_ => { });
    }

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

    private void ReceiveCommon()
    {
        Receive<StopReplica>(_ => OnStopReplica());
        Receive<StartReplica>(_ => { });
        Receive<GetReplicaStatus>(_ => Sender.Tell(Status()));
    }

    private ReplicaStatus Status() => new(_entityId, _state, _loaded?.Model.Version, _reason, _loaded?.Model.Signature);

    private void StartLoading()
    {
        _state = ReplicaState.Loading;
        LoadAsync().PipeTo(Self, success: loaded => loaded, failure: e => new LoadFailed(e is AggregateException a ? a.GetBaseException() : e));
    }

    private async Task<Loaded> LoadAsync()
    {
        var aliases = await _context.Registry.GetAliasesAsync(_model).ConfigureAwait(false);
        var version = aliases.Production
            ?? throw new InvalidOperationException($"Model '{_model}' has no production alias in the registry.");
        var artifacts = await _context.Registry.OpenVersionAsync(_model, version).ConfigureAwait(false);

        // Topics before the ONNX session, so a Kafka failure here leaves nothing to dispose.
        ModelTopics? topics = null;
        if (_context.Kafka is { } kafka && _context.TopicCreator is { } creator)
        {
            var provisioner = new TopicProvisioner(kafka.BootstrapServers, creator, _context.LoggerFactory.CreateLogger<TopicProvisioner>());
            await provisioner.EnsureAsync(_context.Topics.DeclareForModel(_model)).ConfigureAwait(false);
            topics = ModelTopics.For(_context.Topics, _model);
        }

        var model = await Task.Run(() =>
        {
            var loaded = OnnxModel.Load(artifacts, _context.OnnxOptions, _context.LoggerFactory.CreateLogger<OnnxModel>());
            try
            {
                loaded.WarmUp();
                return loaded;
            }
            catch
            {
                loaded.Dispose();
                throw;
            }
        }).ConfigureAwait(false);

        var batcher = new DynamicBatcher(model, BatchingSettings.FromManifest(artifacts.Manifest),
            logger: _context.LoggerFactory.CreateLogger<DynamicBatcher>());
        return new Loaded(model, batcher, topics);
    }

    private void OnLoaded(Loaded loaded)
    {
        _loaded = loaded;
        _state = ReplicaState.Ready;
        _reason = null;
        _log.Info("Replica {0} serving {1}", _entityId, loaded.Model);
        Become(Ready);
        StartPipeline();
    }

    private void StartPipeline()
    {
        if (_loaded?.Topics is not { } topics || _context.Kafka is not { } kafka) return;
        _pipeline = ServingPipeline.Run(_model, topics, _loaded.Batcher, kafka, Context.Materializer());
        _pipeline.StreamCompletion.PipeTo(Self, success: _ => new PipelineEnded(null), failure: e => new PipelineEnded(e));
    }

    private void OnInfer(Infer infer)
    {
        var loaded = _loaded!;
        if (infer.Version is { } wanted && wanted != loaded.Model.Version)
        {
            Sender.Tell(new InferReply.NotFound($"Version {wanted} of model '{_model}' is not being served (serving {loaded.Model.Version})."));
            return;
        }
        RunInference(_model, loaded.Batcher, infer.RequestJson).PipeTo(Sender);
    }

    /// <summary>Decoding and batching happen on the thread pool; the reply goes straight to the caller.</summary>
    private static async Task<InferReply> RunInference(string model, DynamicBatcher batcher, byte[] json)
    {
        if (!InferenceCodec.TryDecodeRequest(json, out var request, out var error))
            return new InferReply.Invalid(error);
        var result = await batcher.Enqueue(request).ConfigureAwait(false);
        if (result.IsServed)
            return new InferReply.Served(ServingRecords.Prediction(model, result.ModelVersion, request, result.Outputs!), result.ModelVersion);
        if (result.Error is { } invalid) return new InferReply.Invalid(invalid);
        return new InferReply.Rejected(result.Rejection!);
    }
}
