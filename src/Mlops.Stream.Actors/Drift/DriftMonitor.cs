using Akka;
using Akka.Actor;
using Akka.Event;
using Akka.Streams;
using Microsoft.Extensions.Logging;
using Mlops.Stream.Actors.Metrics;
using Mlops.Stream.Drift.Windows;
using Mlops.Stream.Kafka.Dsl;
using Mlops.Stream.Kafka.Topics;

namespace Mlops.Stream.Actors.Drift;

/// <summary>Tells a drift job to drain its stream (finish and commit what it can) and stop.</summary>
public sealed class StopDrift
{
    public static readonly StopDrift Instance = new();

    private StopDrift()
    {
    }
}

/// <summary>
/// One model's drift job: it makes sure the model's served, feedback and drift topics exist, then owns the
/// job's <see cref="DriftPipeline"/>, materialized here so the stream dies with the actor. A stream
/// that fails (Kafka refusing the drift topic, say; an outage only pauses it) is started again after
/// <see cref="DriftJobSettings.RestartAfter"/>, doubled for each failure in a row up to
/// <see cref="DriftJobSettings.MaxRestartAfter"/>; what it held uncommitted is read again. The
/// version references, the prediction baselines and the bad-record log outlive the stream's runs. <see cref="StopDrift"/>
/// drains the stream, then stops the actor.
/// </summary>
public sealed class DriftMonitor : ReceiveActor, IWithTimers
{
    private sealed record Provisioned;
    private sealed record ProvisionFailed(Exception Cause);
    private sealed record PipelineEnded(Exception? Cause);
    private sealed record Start;
    private sealed record Drained;

    private readonly string _model;
    private readonly DriftContext _context;
    private readonly ILoggingAdapter _log = Context.GetLogger();
    private readonly DriftGauges _gauges;
    private readonly VersionReferences _references;
    private readonly BadServedEvents _bad;
    private readonly PredictionBaselines _baselines = new();
    private readonly ILogger _logger;
    private DrainingControl<Done>? _pipeline;
    private DateTimeOffset _startedAt;
    private int _failuresInRow;

    public DriftMonitor(string model, DriftContext context)
    {
        _model = model;
        _context = context;
        _logger = context.LoggerFactory.CreateLogger(DriftContext.LogCategory);
        _gauges = new DriftGauges(model);
        _references = new VersionReferences(context.Registry, model, context.Settings.RetryUnknownVersionAfter, _logger, context.Clock,
            context.Settings.RefreshReferenceAfter);
        _bad = new BadServedEvents(model, context.Metrics, _logger);
        Receive<Start>(_ => Provision());
        Receive<Provisioned>(_ => StartPipeline());
        Receive<ProvisionFailed>(failed => RestartLater($"its topics could not be made sure of: {failed.Cause.Message}", failed.Cause));
        Receive<PipelineEnded>(OnPipelineEnded);
        Receive<StopDrift>(_ => OnStop());
    }

    public ITimerScheduler Timers { get; set; } = null!;

    public static Props Props(string model, DriftContext context) => Akka.Actor.Props.Create(() => new DriftMonitor(model, context));

    protected override void PreStart()
    {
        _context.Metrics.Track(_gauges);
        Self.Tell(new Start());
    }

    protected override void PostStop()
    {
        _context.Metrics.Untrack(_gauges);
        // Stopped without StopDrift (the actor system going down): still drain, off the actor's thread.
        if (_pipeline is { } pipeline)
        {
            _ = Task.Run(async () =>
            {
                try { await pipeline.DrainAndShutdown().WaitAsync(TimeSpan.FromSeconds(30)); }
                catch (Exception) { /* what was not committed is read again by the next run */ }
            });
        }
    }

    private void Provision()
    {
        if (_context.Endpoint is not { } endpoint)
        {
            Self.Tell(new Provisioned());
            return;
        }

        var topics = new[] { TopicFamilies.Served, TopicFamilies.Drift, TopicFamilies.Feedback }.Select(f => _context.Topics[f].Declare(_model)).ToList();
        endpoint.CreateProvisioner(_context.LoggerFactory.CreateLogger<TopicProvisioner>()).EnsureAsync(topics)
            .PipeTo(Self, success: _ => new Provisioned(), failure: e => new ProvisionFailed(e));
    }

    private void StartPipeline()
    {
        var pipeline = new DriftPipeline(_model, DriftTopics.For(_context.Topics, _model), _context.Kafka, _context.Settings,
            _references, _bad, _context.Metrics, _logger, _context.Clock) { Baselines = _baselines, Alerts = _context.Alerts, CanaryGuard = _context.CanaryGuard };
        _pipeline = pipeline.Run(Context.Materializer());
        _startedAt = _context.Clock.GetUtcNow();
        _gauges.Consumer = _pipeline;
        _pipeline.StreamCompletion.PipeTo(Self, success: _ => new PipelineEnded(null), failure: e => new PipelineEnded(e));
        var topics = DriftTopics.For(_context.Topics, _model);
        _log.Info("Drift job of {0} started: group {1} on {2} and {3}", _model, DriftTopics.ConsumerGroup(_model), topics.Served, topics.Feedback);
    }

    private void OnPipelineEnded(PipelineEnded ended)
    {
        _pipeline = null;
        _gauges.Consumer = null;
        if (_context.Clock.GetUtcNow() - _startedAt >= _context.Settings.StableAfter)
        {
            _failuresInRow = 0;
        }

        _context.Metrics.CountStreamRestart(_model);
        RestartLater($"its stream ended ({ended.Cause?.Message ?? "completed"})", ended.Cause);
    }

    private void RestartLater(string why, Exception? cause)
    {
        var settings = _context.Settings;
        var delay = TimeSpan.FromTicks(Math.Min(settings.MaxRestartAfter.Ticks, settings.RestartAfter.Ticks << Math.Min(_failuresInRow, 20)));
        _failuresInRow++;
        _log.Error(cause, "Drift job of {0}: {1}; starting it again in {2} (failure {3} in a row)", _model, why, delay, _failuresInRow);
        Timers.StartSingleTimer(nameof(Start), new Start(), delay);
    }

    private void OnStop()
    {
        Timers.CancelAll();
        var pipeline = _pipeline;
        if (pipeline is null)
        {
            Context.Stop(Self);
            return;
        }

        _pipeline = null;
        _gauges.Consumer = null;
        Become(() =>
        {
            Receive<Drained>(_ => Context.Stop(Self));
            ReceiveAny(_ => { });
        });
        pipeline.DrainAndShutdown().PipeTo(Self, success: _ => new Drained(), failure: _ => new Drained());
    }
}
