using Akka;
using Akka.Event;
using Akka.Streams;
using Akka.Streams.Stage;
using Confluent.Kafka;
using Mlops.Stream.Kafka.Dsl;
using Mlops.Stream.Kafka.Settings;
using Mlops.Stream.Kafka.Supervision;

namespace Mlops.Stream.Kafka.Internal;

/// <summary>
/// The sink behind <see cref="Committer.SinkWithOffsetContext{E}"/>. Marks each arriving offset
/// completed and commits the completed prefix of every partition every <c>MaxBatch</c> elements or
/// <c>MaxInterval</c>, one commit at a time. Completes its task only after the final commit
/// succeeded, so a drained stream has committed everything that reached it.
/// </summary>
internal sealed class CommitterStage<TElement>
    : GraphStageWithMaterializedValue<SinkShape<(TElement, CommittableOffset)>, Task<Done>>
{
    private const string IntervalTimer = "interval";
    private const string RetryTimer = "retry";
    private readonly CommitterSettings _settings;

    public CommitterStage(CommitterSettings settings)
    {
        _settings = settings;
        Shape = new SinkShape<(TElement, CommittableOffset)>(In);
    }

    public Inlet<(TElement, CommittableOffset)> In { get; } = new("kafka.committer.in");
    public override SinkShape<(TElement, CommittableOffset)> Shape { get; }
    protected override Attributes InitialAttributes { get; } = Attributes.CreateName("kafka-committer");

    public override ILogicAndMaterializedValue<Task<Done>> CreateLogicAndMaterializedValue(Attributes inheritedAttributes)
    {
        var completion = new TaskCompletionSource<Done>(TaskCreationOptions.RunContinuationsAsynchronously);
        return new LogicAndMaterializedValue<Task<Done>>(new Logic(this, completion), completion.Task);
    }

    private sealed class Logic : TimerGraphStageLogic
    {
        private readonly CommitterStage<TElement> _stage;
        private readonly CommitterSettings _settings;
        private readonly TaskCompletionSource<Done> _completion;
        private readonly HashSet<CommitCoordinator> _dirty = new();
        private Action<IReadOnlyList<(CommitCoordinator, CommitOutcome)>> _onCommitted = _ => { };
        private Action<Exception> _onCommitCrashed = _ => { };
        private int _sinceFlush;
        private bool _commitInFlight;
        private bool _flushAgain;
        private DateTime? _drainDeadline;
        private bool _outageLogged;

        public Logic(CommitterStage<TElement> stage, TaskCompletionSource<Done> completion) : base(stage.Shape)
        {
            _stage = stage;
            _settings = stage._settings;
            _completion = completion;
            SetHandler(stage.In, onPush: OnPush, onUpstreamFinish: OnUpstreamFinish, onUpstreamFailure: Fail);
        }

        public override void PreStart()
        {
            _onCommitted = GetAsyncCallback<IReadOnlyList<(CommitCoordinator, CommitOutcome)>>(OnCommitted);
            _onCommitCrashed = GetAsyncCallback<Exception>(Fail);
            ScheduleRepeatedly(IntervalTimer, _settings.MaxInterval);
            Pull(_stage.In);
        }

        public override void PostStop() =>
            _completion.TrySetException(new AbruptStageTerminationException(this));

        private void OnPush()
        {
            var (_, offset) = Grab(_stage.In);
            offset.Coordinator.MarkCompleted(offset);
            _dirty.Add(offset.Coordinator);
            if (++_sinceFlush >= _settings.MaxBatch) Flush();
            Pull(_stage.In);
        }

        private void OnUpstreamFinish()
        {
            // The inlet is closed, but the stage must live until the final commit is acknowledged.
            SetKeepGoing(true);
            _drainDeadline = DateTime.UtcNow + _settings.DrainCommitTimeout;
            Flush();
        }

        protected override void OnTimer(object timerKey) => Flush();

        private void Flush()
        {
            if (_commitInFlight)
            {
                _flushAgain = true;
                return;
            }
            if (_dirty.Count == 0)
            {
                FinishIfDrained();
                return;
            }
            var coordinators = _dirty.ToArray();
            _dirty.Clear();
            _sinceFlush = 0;
            _commitInFlight = true;
            CommitAll(coordinators).ContinueWith(task =>
            {
                if (task.IsCompletedSuccessfully) _onCommitted(task.Result);
                else _onCommitCrashed(task.Exception!.GetBaseException());
            }, TaskScheduler.Default);
        }

        private static async Task<IReadOnlyList<(CommitCoordinator, CommitOutcome)>> CommitAll(CommitCoordinator[] coordinators)
        {
            var outcomes = await Task.WhenAll(coordinators.Select(c => c.CommitCompletedAsync())).ConfigureAwait(false);
            return coordinators.Zip(outcomes).ToArray();
        }

        private void OnCommitted(IReadOnlyList<(CommitCoordinator Coordinator, CommitOutcome Outcome)> outcomes)
        {
            _commitInFlight = false;
            var retry = false;
            foreach (var (coordinator, outcome) in outcomes)
            {
                if (outcome.Succeeded) continue;
                if (outcome.Action == CommitErrorAction.Stop)
                {
                    Fail(new KafkaException(outcome.Error!));
                    return;
                }
                // Transient (broker away) or a rebalance under way: the completions are still held by
                // the coordinator; retry. Offsets of partitions revoked meanwhile are gone by then.
                if (outcome.Action == CommitErrorAction.Retry && !_outageLogged)
                {
                    Log.Warning("Kafka commit failed ({0}); retrying every {1} ms", outcome.Error!.Reason, _settings.RetryBackoff.TotalMilliseconds);
                    _outageLogged = true;
                }
                _dirty.Add(coordinator);
                retry = true;
            }
            if (!retry) _outageLogged = false;

            if (_drainDeadline is { } deadline && retry && DateTime.UtcNow > deadline)
            {
                Fail(new TimeoutException(
                    $"Could not commit the final offsets within {_settings.DrainCommitTimeout.TotalSeconds:F0} s; the uncommitted records will be redelivered."));
                return;
            }
            if (retry) ScheduleOnce(RetryTimer, _settings.RetryBackoff);
            else if (_flushAgain)
            {
                _flushAgain = false;
                Flush();
            }
            else FinishIfDrained();
        }

        private void FinishIfDrained()
        {
            if (!_drainDeadline.HasValue || _commitInFlight || _dirty.Count > 0) return;
            _completion.TrySetResult(Done.Instance);
            CompleteStage();
        }

        private void Fail(Exception cause)
        {
            _completion.TrySetException(cause);
            FailStage(cause);
        }
    }
}
