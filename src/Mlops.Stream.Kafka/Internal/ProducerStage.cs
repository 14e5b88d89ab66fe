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
///
/// Transactional (settings with <see cref="TransactionSettings"/>): records are produced inside a
/// transaction that also carries the elements' consumed offsets. Every <c>CommitInterval</c> (or
/// <c>MaxElements</c>) the stage stops taking elements, waits for the transaction's records to be
/// acknowledged, commits it with the offsets, and only then emits its elements. Any failure fails
/// the stage, which aborts the open transaction: its records and offsets vanish together, and the
/// consumer, restarted, reads the records again from the last committed transaction.
/// </summary>
internal sealed class ProducerStage<TKey, TValue, TContext>
    : GraphStage<FlowShape<(ProducerEnvelope<TKey, TValue>, TContext), (ProducerResults<TKey, TValue>, TContext)>>
{
    private static readonly TimeSpan QueueFullRetry = TimeSpan.FromMilliseconds(20);
    private readonly ProducerSettings<TKey, TValue> _settings;
    private readonly Func<TContext, CommittableOffset>? _offsetOf;

    /// <param name="offsetOf">Transactional only: the consumed offset an element's context carries.</param>
    public ProducerStage(ProducerSettings<TKey, TValue> settings, Func<TContext, CommittableOffset>? offsetOf = null)
    {
        if (settings.Transactions is not null && offsetOf is null)
            throw new ArgumentException("A transactional producer flow needs each element's consumed offset.", nameof(offsetOf));
        if (settings.Transactions is not null && settings.SharedProducer is not null)
            throw new ArgumentException("A transactional producer flow owns its producer (one transactional id per flow).", nameof(settings));
        _settings = settings;
        _offsetOf = offsetOf;
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
        /// <summary>Its transaction has committed (always true outside transactions).</summary>
        public bool Committed = true;
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

        // ---- transactional only ----
        private const string CommitTimer = "transaction";
        private TransactionCycle<TKey, TValue>? _cycle;
        private TransactionOffsets _offsets = new();
        /// <summary>Elements pulled while a commit ran: produced into the next transaction once it ends.</summary>
        private readonly Queue<(ProducerEnvelope<TKey, TValue>, TContext)> _held = new();
        private Task _transactionCall = Task.CompletedTask;
        private Action<int> _onCommitted = _ => { };
        private Action<Exception> _onTransactionFailed = _ => { };
        private Action _onStarted = () => { };
        private bool _started, _commitWanted, _commitRunning;
        /// <summary>Elements in the open transaction, and how many of them still wait for acknowledgements.</summary>
        private int _uncommitted, _uncommittedUnacknowledged;

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
            if (_settings.Transactions is not { } transactions)
            {
                Pull(_stage.In);
                return;
            }
            _cycle = new TransactionCycle<TKey, TValue>(_producer, transactions);
            _onStarted = GetAsyncCallback(() =>
            {
                _started = true;
                PullIfRoom();
            });
            _onCommitted = GetAsyncCallback<int>(OnTransactionCommitted);
            _onTransactionFailed = GetAsyncCallback<Exception>(e =>
            {
                _failed = true;
                _settings.Health.ReportError(_settings.Name, e is KafkaException k ? k.Error : new Error(ErrorCode.Local_Fail, e.Message));
                FailStage(e);
            });
            ScheduleRepeatedly(CommitTimer, transactions.CommitInterval);
            RunTransactionCall(_cycle.Start, _onStarted);
        }

        private void RunTransactionCall(Action call, Action onDone)
        {
            _transactionCall = Task.Run(call);
            _transactionCall.ContinueWith(t =>
            {
                if (t.IsCompletedSuccessfully) onDone();
                else _onTransactionFailed(t.Exception!.GetBaseException());
            }, TaskScheduler.Default);
        }

        public override void PostStop()
        {
            if (!_ownsProducer || _producer is null) return;
            if (_cycle is not null && !AbortOpenTransaction(_cycle)) return;
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

        /// <summary>
        /// A stage that stops with a transaction open (failure, cancellation) aborts it: its records
        /// and offsets vanish together. Returns false when a transaction call still runs in the
        /// producer, which must then be neither aborted nor disposed under it.
        /// </summary>
        private bool AbortOpenTransaction(TransactionCycle<TKey, TValue> cycle)
        {
            var timeout = _settings.Transactions!.OperationTimeout;
            try
            {
                // The producer takes one transaction call at a time: let a running one end first.
                if (!_transactionCall.Wait(timeout))
                {
                    // Still inside the producer: aborting or disposing under it is unsafe. Leave both to
                    // the process's end; the next producer with this transactional id aborts the transaction.
                    Log.Warning("Kafka producer {0}: a transaction call still runs after {1:0} s; the producer is left open", _settings.Name, timeout.TotalSeconds);
                    return false;
                }
            }
            catch (AggregateException)
            {
                // It failed; that is why the stage stops.
            }
            try
            {
                cycle.Abort(timeout);
            }
            catch (KafkaException e)
            {
                // A fenced or broken producer cannot abort; the next producer with this transactional id aborts it when it starts.
                Log.Warning("Kafka producer {0}: the open transaction was not aborted ({1}); the next start with the same transactional id aborts it", _settings.Name, e.Error.Reason);
            }
            return true;
        }

        private void OnPush()
        {
            var element = Grab(_stage.In);
            if (_commitRunning)
            {
                // Pulled before the commit began: it belongs to the next transaction.
                _held.Enqueue(element);
                return;
            }
            Produce(element);
        }

        private void Produce((ProducerEnvelope<TKey, TValue> Envelope, TContext Context) element)
        {
            var (envelope, context) = element;
            var pending = new Pending(context, envelope.Records.Count);
            _inFlight.Enqueue(pending);
            if (_cycle is not null) JoinTransaction(pending);
            for (var i = 0; i < envelope.Records.Count && !_failed; i++)
            {
                if (_retry.Count > 0) _retry.Enqueue((pending, i, envelope.Records[i]));  // keep order behind earlier retries
                else if (!TryProduce(pending, i, envelope.Records[i])) ScheduleRetry(pending, i, envelope.Records[i]);
            }
            if (_failed) return;
            TryEmit();
            PullIfRoom();
        }

        private void JoinTransaction(Pending pending)
        {
            pending.Committed = false;
            _offsets.Add(_stage._offsetOf!(pending.Context));
            _uncommitted++;
            if (pending.Remaining > 0) _uncommittedUnacknowledged++;
            if (_uncommitted >= _settings.Transactions!.MaxElements) RequestCommit();
        }

        private void RequestCommit()
        {
            _commitWanted = true;
            TryStartCommit();
        }

        /// <summary>Commits once every record of the open transaction is acknowledged (nothing is produced meanwhile).</summary>
        private void TryStartCommit()
        {
            if (!_commitWanted || _commitRunning || _failed || !_started) return;
            if (_uncommitted == 0)
            {
                _commitWanted = false;
                PullIfRoom();
                CompleteIfDone();
                return;
            }
            if (_uncommittedUnacknowledged > 0 || _retry.Count > 0) return;
            _commitRunning = true;
            var offsets = _offsets;
            _offsets = new TransactionOffsets();
            var elements = _uncommitted;
            RunTransactionCall(() => _cycle!.Commit(offsets), () => _onCommitted(elements));
        }

        private void OnTransactionCommitted(int elements)
        {
            foreach (var pending in _inFlight)
            {
                if (elements == 0) break;
                if (pending.Committed) continue;
                pending.Committed = true;
                elements--;
            }
            _uncommitted = _uncommittedUnacknowledged = 0;
            _commitRunning = _commitWanted = false;
            while (!_failed && _held.TryDequeue(out var element)) Produce(element);
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
            if (Equals(timerKey, CommitTimer))
            {
                if (_uncommitted > 0) RequestCommit();
                return;
            }
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
                    // In a transaction a failed delivery leaves it to be aborted: no fallback can join it.
                    if (!KafkaErrorDecider.IsRecordRefused(report.Error) || _cycle is not null)
                    {
                        Fail(item.Pending, item.Record, report.Error);
                        return;
                    }
                    OnRefused(item.Pending, item.Index, item.Record, report.Error);
                    if (_failed) return;  // the fallback was refused too and had none of its own
                    continue;
                }
                item.Pending.Results[item.Index] = report;
                if (--item.Pending.Remaining == 0 && !item.Pending.Committed) _uncommittedUnacknowledged--;
            }
            _settings.Health.ReportReachable(_settings.Name);
            TryStartCommit();
            TryEmit();
            PullIfRoom();
        }

        private void TryEmit()
        {
            if (_inFlight.TryPeek(out var head) && head.Remaining == 0 && head.Committed && IsAvailable(_stage.Out))
            {
                _inFlight.Dequeue();
                Push(_stage.Out, (new ProducerResults<TKey, TValue>(head.Results) { Refusals = head.Refusals ?? [] }, head.Context));
            }
            CompleteIfDone();
        }

        private void PullIfRoom()
        {
            // A transactional stage takes nothing before its producer is ready or while a commit is due.
            if (_cycle is not null && (!_started || _commitWanted)) return;
            if (!HasBeenPulled(_stage.In) && !IsClosed(_stage.In) && _inFlight.Count < _settings.Parallelism)
                Pull(_stage.In);
        }

        private void CompleteIfDone()
        {
            if (!IsClosed(_stage.In) || _held.Count > 0 || _commitRunning) return;
            // The last transaction commits before the stage completes.
            if (_uncommitted > 0 && !_commitWanted) RequestCommit();
            if (_inFlight.Count == 0) CompleteStage();
        }
    }
}
