using Akka.Streams;
using Akka.Streams.Stage;
using Confluent.Kafka;
using Mlops.Stream.Kafka.Dsl;
using Mlops.Stream.Kafka.Settings;

namespace Mlops.Stream.Kafka.Internal;

/// <summary>
/// The source behind <see cref="KafkaConsumer.SourceWithOffsetContext{TKey,TValue}"/>: emits each
/// consumed record with its <see cref="CommittableOffset"/>, pulling from a
/// <see cref="ConsumerWorker{TKey,TValue}"/> only on demand.
/// </summary>
internal sealed class ConsumerStage<TKey, TValue>
    : GraphStageWithMaterializedValue<SourceShape<(ConsumeResult<TKey, TValue>, CommittableOffset)>, IConsumerControl>
{
    private readonly ConsumerSettings<TKey, TValue> _settings;
    private readonly Subscription _subscription;

    public ConsumerStage(ConsumerSettings<TKey, TValue> settings, Subscription subscription)
    {
        _settings = settings;
        _subscription = subscription;
        Shape = new SourceShape<(ConsumeResult<TKey, TValue>, CommittableOffset)>(Out);
    }

    public Outlet<(ConsumeResult<TKey, TValue>, CommittableOffset)> Out { get; } = new("kafka.consumer.out");

    public override SourceShape<(ConsumeResult<TKey, TValue>, CommittableOffset)> Shape { get; }

    protected override Attributes InitialAttributes { get; } = Attributes.CreateName("kafka-consumer");

    public override ILogicAndMaterializedValue<IConsumerControl> CreateLogicAndMaterializedValue(Attributes inheritedAttributes)
    {
        var control = new Control(_settings.StopTimeout);
        return new LogicAndMaterializedValue<IConsumerControl>(new Logic(this, control), control);
    }

    private sealed class Logic : GraphStageLogic
    {
        private readonly ConsumerStage<TKey, TValue> _stage;
        private readonly Control _control;
        private ConsumerWorker<TKey, TValue>? _worker;
        private bool _stopRequested;

        public Logic(ConsumerStage<TKey, TValue> stage, Control control) : base(stage.Shape)
        {
            _stage = stage;
            _control = control;
            SetHandler(stage.Out, onPull: TryPush, onDownstreamFinish: _ => CompleteStage());
        }

        public override void PreStart()
        {
            try
            {
                _worker = new ConsumerWorker<TKey, TValue>(
                    _stage._settings, _stage._subscription, Log,
                    dataAvailable: GetAsyncCallback(() => { if (IsAvailable(_stage.Out)) TryPush(); }),
                    failed: GetAsyncCallback<Exception>(FailStage),
                    _control.ShutdownCompletion);
            }
            catch (Exception e)
            {
                // Typically an invalid consumer property: fail the stream with librdkafka's
                // message, and let the control answer instead of waiting for a start that never comes.
                _control.StartFailed(e);
                throw;
            }
            _control.Attach(_worker, GetAsyncCallback(OnStop));
            _worker.Start();
        }

        public override void PostStop()
        {
            // Stopped through the control: the consumer stays open for the committer until
            // Shutdown (or the stop timeout). Any other end (cancel, failure) closes it now.
            if (!_stopRequested) _worker?.Shutdown();
            _control.SourceCompleted();
        }

        private void TryPush()
        {
            if (_worker!.TryTake(out var item)) Push(_stage.Out, item);
        }

        private void OnStop()
        {
            _stopRequested = true;
            _worker!.StopConsuming();
            CompleteStage();
        }
    }

    /// <summary>The materialized control; it may be used before the stage has started.</summary>
    private sealed class Control(TimeSpan stopTimeout) : IConsumerControl
    {
        private readonly TaskCompletionSource<(ConsumerWorker<TKey, TValue> Worker, Action Stop)> _started =
            new(TaskCreationOptions.RunContinuationsAsynchronously);
        private readonly TaskCompletionSource _sourceCompleted = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public TaskCompletionSource ShutdownCompletion { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public Task IsShutdown => ShutdownCompletion.Task;

        public ConsumerMetrics Metrics => _started.Task.IsCompletedSuccessfully
            ? _started.Task.Result.Worker.Metrics
            : new ConsumerMetrics([], [], 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, new Dictionary<TopicPartition, long>());

        public void Attach(ConsumerWorker<TKey, TValue> worker, Action stop) => _started.TrySetResult((worker, stop));

        public void SourceCompleted() => _sourceCompleted.TrySetResult();

        public void StartFailed(Exception cause)
        {
            _started.TrySetException(cause);
            _sourceCompleted.TrySetResult();
            ShutdownCompletion.TrySetResult();
        }

        public async Task Stop()
        {
            if (!_sourceCompleted.Task.IsCompleted && !_started.Task.IsFaulted)
            {
                var (worker, stop) = await _started.Task.ConfigureAwait(false);
                stop();
                // Close the consumer eventually even if the owner forgets Shutdown.
                _ = Task.Delay(stopTimeout).ContinueWith(_ => worker.Shutdown(), TaskScheduler.Default);
            }
            await _sourceCompleted.Task.ConfigureAwait(false);
        }

        public async Task Shutdown()
        {
            if (_started.Task.IsFaulted) return;
            var (worker, stop) = await _started.Task.ConfigureAwait(false);
            if (!_sourceCompleted.Task.IsCompleted) stop();
            worker.Shutdown();
            await ShutdownCompletion.Task.ConfigureAwait(false);
        }
    }
}
