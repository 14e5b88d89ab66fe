using System.Collections.Concurrent;
using Akka.Event;
using Akka.Streams;
using Akka.Streams.Stage;
using Confluent.Kafka;
using Mlops.Stream.Kafka.Dsl;
using Mlops.Stream.Kafka.Settings;
using Mlops.Stream.Kafka.Supervision;
using Error = Confluent.Kafka.Error;

namespace Mlops.Stream.Kafka.Internal;

/// <summary>
/// The flow behind <see cref="KafkaProducer.FlexiFlowWithContext{TKey,TValue,TContext}"/>.
/// Hands records to librdkafka as soon as they arrive (so its linger can batch them) and emits
/// each element, in arrival order, once all of its records are acknowledged.
/// </summary>
internal sealed class ProducerStage<TKey, TValue, TContext>
    : GraphStage<FlowShape<(ProducerEnvelope<TKey, TValue>, TContext), (ProducerResults<TKey, TValue>, TContext)>>
{
    private static readonly TimeSpan QueueFullRetry = TimeSpan.FromMilliseconds(20);
    private readonly ProducerSettings<TKey, TValue> _settings;

    public ProducerStage(ProducerSettings<TKey, TValue> settings)
    {
        _settings = settings;
        Shape = new FlowShape<(ProducerEnvelope<TKey, TValue>, TContext), (ProducerResults<TKey, TValue>, TContext)>(In, Out);
    }

    public Inlet<(ProducerEnvelope<TKey, TValue>, TContext)> In { get; } = new("kafka.producer.in");
    public Outlet<(ProducerResults<TKey, TValue>, TContext)> Out { get; } = new("kafka.producer.out");
    public override FlowShape<(ProducerEnvelope<TKey, TValue>, TContext), (ProducerResults<TKey, TValue>, TContext)> Shape { get; }
    protected override Attributes InitialAttributes { get; } = Attributes.CreateName("kafka-producer");

    protected override GraphStageLogic CreateLogic(Attributes inheritedAttributes) => new Logic(this);

    /// <summary>One element whose records are waiting for acknowledgement.</summary>
    private sealed class Pending(TContext context, int records)
    {
        public readonly TContext Context = context;
        public readonly DeliveryResult<TKey, TValue>[] Results = new DeliveryResult<TKey, TValue>[records];
        public List<RecordRefusal>? Refusals;
        public int Remaining = records;
    }

    private sealed class Logic : TimerGraphStageLogic
    {
        private readonly ProducerStage<TKey, TValue, TContext> _stage;
        private readonly ProducerSettings<TKey, TValue> _settings;
        private readonly Queue<Pending> _inFlight = new();
        private readonly Queue<(Pending Pending, int Index, ProducerRecord<TKey, TValue> Record)> _retry = new();
        // Delivery reports arrive on librdkafka's thread; they are queued and drained on the
        // stage's thread, with at most one wake-up outstanding.
        private readonly ConcurrentQueue<(Pending Pending, int Index, ProducerRecord<TKey, TValue> Record, DeliveryReport<TKey, TValue> Report)> _reports = new();
        private int _drainScheduled;
        private Action _drain = () => { };
        private IProducer<TKey, TValue>? _producer;
        private bool _ownsProducer;
        private bool _failed;

        public Logic(ProducerStage<TKey, TValue, TContext> stage) : base(stage.Shape)
        {
            _stage = stage;
            _settings = stage._settings;
            SetHandler(stage.In, onPush: OnPush, onUpstreamFinish: CompleteIfDone);
            SetHandler(stage.Out, onPull: TryEmit, onDownstreamFinish: _ => CompleteStage());
        }

        public override void PreStart()
        {
            _ownsProducer = _settings.SharedProducer is null;
            _producer = _settings.SharedProducer ?? _settings.CreateProducer();
            _drain = GetAsyncCallback(DrainReports);
            Pull(_stage.In);
        }

        public override void PostStop()
        {
            if (!_ownsProducer || _producer is null) return;
            try
            {
                _producer.Flush(_settings.CloseTimeout);
            }
            catch (Exception e)
            {
                Log.Warning("Kafka producer {0} did not flush on close: {1}", _settings.Name, e.Message);
            }
            _producer.Dispose();
        }

        private void OnPush()
        {
            var (envelope, context) = Grab(_stage.In);
            var pending = new Pending(context, envelope.Records.Count);
            _inFlight.Enqueue(pending);
            for (var i = 0; i < envelope.Records.Count && !_failed; i++)
            {
                if (_retry.Count > 0) _retry.Enqueue((pending, i, envelope.Records[i]));  // keep order behind earlier retries
                else if (!TryProduce(pending, i, envelope.Records[i])) ScheduleRetry(pending, i, envelope.Records[i]);
            }
            if (_failed) return;
            TryEmit();
            PullIfRoom();
        }

        /// <summary>
        /// Hands one record to librdkafka; false when its local queue is full (try again shortly).
        /// A record refused on the spot (larger than <c>message.max.bytes</c>, say) is handled like
        /// one the broker refuses.
        /// </summary>
        private bool TryProduce(Pending pending, int index, ProducerRecord<TKey, TValue> record)
        {
            try
            {
                _producer!.Produce(record.Topic, record.ToMessage(), report => OnDelivery(pending, index, record, report));
                return true;
            }
            catch (ProduceException<TKey, TValue> e) when (e.Error.Code == ErrorCode.Local_QueueFull)
            {
                // librdkafka's local queue is full (a shared producer, or a long outage).
                return false;
            }
            catch (ProduceException<TKey, TValue> e) when (KafkaErrorDecider.IsRecordRefused(e.Error))
            {
                OnRefused(pending, index, record, e.Error);
                return true;
            }
        }

        private void ScheduleRetry(Pending pending, int index, ProducerRecord<TKey, TValue> record)
        {
            _retry.Enqueue((pending, index, record));
            if (!IsTimerActive(nameof(_retry))) ScheduleOnce(nameof(_retry), QueueFullRetry);
        }

        protected override void OnTimer(object timerKey)
        {
            while (!_failed && _retry.TryPeek(out var item))
            {
                if (!TryProduce(item.Pending, item.Index, item.Record))
                {
                    ScheduleOnce(nameof(_retry), QueueFullRetry);
                    return;
                }
                _retry.Dequeue();
            }
        }

        /// <summary>A record refused for good: note the refusal and produce its fallback in its place, or fail the stage when it has none.</summary>
        private void OnRefused(Pending pending, int index, ProducerRecord<TKey, TValue> record, Error error)
        {
            if (record.Fallback is not { } replace)
            {
                Fail(pending, record, error);
                return;
            }
            var fallback = replace(error);
            Log.Warning("Kafka producer {0}: a record for {1} was refused ({2}); writing its fallback to {3}",
                _settings.Name, record.Topic, error.Reason, fallback.Topic);
            (pending.Refusals ??= []).Add(new RecordRefusal(index, record.Topic, error));
            if (!TryProduce(pending, index, fallback)) ScheduleRetry(pending, index, fallback);
        }

        private void Fail(Pending pending, ProducerRecord<TKey, TValue> record, Error error)
        {
            _failed = true;
            _settings.Health.ReportError(_settings.Name, error);
            FailStage(new ProducerDeliveryException(error, record.Topic, pending.Context));
        }

        private void OnDelivery(Pending pending, int index, ProducerRecord<TKey, TValue> record, DeliveryReport<TKey, TValue> report)
        {
            _reports.Enqueue((pending, index, record, report));
            if (Interlocked.Exchange(ref _drainScheduled, 1) == 0) _drain();
        }

        private void DrainReports()
        {
            Volatile.Write(ref _drainScheduled, 0);
            while (_reports.TryDequeue(out var item))
            {
                var report = item.Report;
                if (report.Error.IsError)
                {
                    if (!KafkaErrorDecider.IsRecordRefused(report.Error))
                    {
                        Fail(item.Pending, item.Record, report.Error);
                        return;
                    }
                    OnRefused(item.Pending, item.Index, item.Record, report.Error);
                    if (_failed) return;  // the fallback was refused too and had none of its own
                    continue;
                }
                item.Pending.Results[item.Index] = report;
                item.Pending.Remaining--;
            }
            _settings.Health.ReportReachable(_settings.Name);
            TryEmit();
            PullIfRoom();
        }

        private void TryEmit()
        {
            if (_inFlight.TryPeek(out var head) && head.Remaining == 0 && IsAvailable(_stage.Out))
            {
                _inFlight.Dequeue();
                Push(_stage.Out, (new ProducerResults<TKey, TValue>(head.Results) { Refusals = head.Refusals ?? [] }, head.Context));
            }
            CompleteIfDone();
        }

        private void PullIfRoom()
        {
            if (!HasBeenPulled(_stage.In) && !IsClosed(_stage.In) && _inFlight.Count < _settings.Parallelism)
                Pull(_stage.In);
        }

        private void CompleteIfDone()
        {
            if (IsClosed(_stage.In) && _inFlight.Count == 0) CompleteStage();
        }
    }
}
