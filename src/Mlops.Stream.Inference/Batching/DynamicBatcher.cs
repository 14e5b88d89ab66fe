using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Mlops.Stream.Inference.Batching.Internal;
using Mlops.Stream.Inference.Onnx;
using Mlops.Stream.Inference.Wire;

namespace Mlops.Stream.Inference.Batching;

/// <summary>
/// The dynamic batcher for one loaded model per replica, shared by the Kafka and HTTP paths:
/// requests join a bounded FIFO queue and leave it in batches of at most
/// <see cref="BatchingSettings.MaxBatchSize"/> rows, dispatched as soon as the model is free
/// (<see cref="BatchingSettings.DispatchWhenIdle"/>, the default: an idle model runs a lone request
/// at once, a busy one gathers the next batch while it runs), or, as Triton does, when the batch is
/// full or the oldest queued request has waited <see cref="BatchingSettings.MaxQueueDelay"/>. Batches run
/// one <see cref="IInferenceModel.Run"/> per batch on the batcher's own threads, up to
/// <see cref="BatchingSettings.Instances"/> at once (Triton's instance count; ONNX Runtime runs one
/// session from several threads): ONNX Runtime's Run is blocking CPU work and must never hold the
/// thread pool that the actor dispatcher and ASP.NET Core share.
/// </summary>
/// <remarks>
/// <para>
/// Every request is checked with <see cref="IInferenceModel.Validate"/> on the caller's thread
/// before it joins the queue, so a bad request is refused alone (<see cref="BatchResult.Error"/>)
/// and never fails its batch-mates. If the model run itself throws, every request of that batch
/// is rejected with model_failed; the batcher carries on with the next batch.
/// </para>
/// <para>
/// Full queue: <see cref="Enqueue"/> rejects at once with queue_full (HTTP maps it to 429/503);
/// <see cref="EnqueueAsync"/> waits for room instead, in arrival order, so a stream stage such as
/// <c>SelectAsync(parallelism, r => batcher.EnqueueAsync(r))</c> backpressures the Kafka source.
/// Room freed by a batch goes to waiting callers first, so while the Kafka path is waiting for
/// room, HTTP callers see queue_full: under overload the synchronous path is shed, not the log.
/// </para>
/// <para>
/// Stop: <see cref="StopAsync"/> drains. It stops accepting (new calls and callers still waiting
/// for room get shutting_down), runs everything already queued without waiting for the delay, and
/// completes once the last batch has finished; if its token is cancelled first, what is still
/// queued is rejected with shutting_down. <see cref="Dispose"/> and <see cref="DisposeAsync"/>
/// do not drain: queued requests are rejected with shutting_down at once; they return after the
/// batch already running has finished. After any of them no batch uses the model.
/// </para>
/// <para>
/// Ownership: the batcher never disposes a model. Its owner disposes the model
/// <see cref="SwapModelAsync"/> hands back, and the current one once the batcher has stopped.
/// </para>
/// </remarks>
public sealed class DynamicBatcher : IDisposable, IAsyncDisposable
{
    /// <summary>How many recent batch sizes <see cref="GetCounters"/> reports.</summary>
    public const int RecentBatchCount = 16;

    // Guards the queue, the waiting list, states, _running, _releases and _recent. The batcher's
    // threads wait on it (Monitor.Wait) for arrivals, the delay timer, a free instance or a stop.
    private readonly object _gate = new();
    private readonly LinkedList<PendingRequest> _queue = new();
    private readonly LinkedList<PendingRequest> _waitingForRoom = new();
    private readonly List<(IInferenceModel Model, TaskCompletionSource<IInferenceModel> Released)> _releases = [];
    private readonly int[] _recent = new int[RecentBatchCount];
    private readonly TaskCompletionSource _completion = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly Action<PendingRequest, CancellationToken> _onCancelled;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly Action<BatchReport>? _onBatch;
    private readonly ITimer _delayTimer;
    private readonly Thread[] _threads;
    // The model each running batch uses, one entry per batch: a swapped-out model is handed back once none runs on it.
    private readonly List<IInferenceModel> _running = [];
    private int _threadsLeft;
    private IInferenceModel _model;
    private long _queuedRows;
    // Rows a batch may take now: MaxBatchSize, or what the latency objective allows (see BatchLimit).
    private int _batchLimit;
    private int _executing;
    private bool _stopping;
    private long _batchesRun;
    private long _requestsRun;
    private long _refused;
    private long _rejectedQueueFull;
    private long _rejectedShuttingDown;
    private long _failedModelRuns;

    /// <param name="model">The model to serve; not owned (see remarks).</param>
    /// <param name="settings">Validated here; <see cref="BatchingSettings.FromManifest"/> gives the model's own advice.</param>
    /// <param name="timeProvider">Clock for the queue delay and the reported timings; <see cref="TimeProvider.System"/> when null.</param>
    /// <param name="onBatch">
    /// Called on the batcher's thread after each batch, before its callers see their results
    /// (metrics); must be quick. Exceptions are logged and ignored.
    /// </param>
    public DynamicBatcher(
        IInferenceModel model,
        BatchingSettings settings,
        TimeProvider? timeProvider = null,
        ILogger? logger = null,
        Action<BatchReport>? onBatch = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(settings);
        settings.Validate();
        _model = model;
        Settings = settings;
        _batchLimit = settings.MaxBatchSize;
        _time = timeProvider ?? TimeProvider.System;
        _logger = logger ?? NullLogger.Instance;
        _onBatch = onBatch;
        _onCancelled = OnCancelled;
        _delayTimer = _time.CreateTimer(
            static state => ((DynamicBatcher)state!).OnDelayElapsed(), this, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
        _threadsLeft = settings.Instances;
        _threads = [.. Enumerable.Range(0, settings.Instances)
            .Select(i => new Thread(DispatchLoop) { IsBackground = true, Name = $"batcher {model.Name}" + (settings.Instances > 1 ? $" #{i}" : "") })];
        foreach (var thread in _threads)
        {
            thread.Start();
        }
    }

    public BatchingSettings Settings { get; }

    /// <summary>The model new batches run on (the latest one given to <see cref="SwapModelAsync"/>).</summary>
    public IInferenceModel Model => Volatile.Read(ref _model);

    /// <summary>Requests waiting for a batch.</summary>
    public int QueueDepth
    {
        get
        {
            lock (_gate)
            {
                return _queue.Count;
            }
        }
    }

    /// <summary>Triton's in-flight count: requests queued or in the running batch.</summary>
    public int InFlight
    {
        get
        {
            lock (_gate)
            {
                return _queue.Count + _executing;
            }
        }
    }

    /// <summary>Completes when the batcher's thread has ended after a stop: no batch runs any more.</summary>
    public Task Completion => _completion.Task;

    /// <summary>
    /// Queues a request, or refuses it at once: invalid for the model (<see cref="BatchResult.Error"/>),
    /// queue full or stopping (<see cref="BatchResult.Rejection"/>). The task completes with the
    /// request's result once its batch has run; it never faults. Cancelling
    /// <paramref name="cancellationToken"/> while the request is still queued removes it and
    /// cancels the task; once its batch has started the result is delivered anyway.
    /// </summary>
    public Task<BatchResult> Enqueue(InferenceRequest request, CancellationToken cancellationToken = default) =>
        Submit(request, waitForRoom: false, cancellationToken);

    /// <summary>
    /// Like <see cref="Enqueue"/>, but when the queue is full it waits for room (in arrival order)
    /// instead of refusing: the backpressuring entry point for the Kafka path. Cancelling
    /// <paramref name="cancellationToken"/> while waiting for room or queued cancels the task.
    /// Callers waiting for room when the batcher stops get shutting_down.
    /// </summary>
    public Task<BatchResult> EnqueueAsync(InferenceRequest request, CancellationToken cancellationToken = default) =>
        Submit(request, waitForRoom: true, cancellationToken);

    /// <summary>
    /// Runs later batches on <paramref name="newModel"/> (same model name; its signature is
    /// expected to match, and requests queued under the old one are checked again by
    /// <see cref="IInferenceModel.Run"/>, so one that no longer fits is refused alone). A batch
    /// already running finishes on the old model. The task completes with the old model once no
    /// batch uses it; the caller then owns it (keep it warm for rollback, or dispose it).
    /// </summary>
    public Task<IInferenceModel> SwapModelAsync(IInferenceModel newModel)
    {
        ArgumentNullException.ThrowIfNull(newModel);
        lock (_gate)
        {
            var old = _model;
            if (!string.Equals(old.Name, newModel.Name, StringComparison.Ordinal))
            {
                throw new ArgumentException(
                    $"this batcher serves model '{old.Name}'; it cannot swap in model '{newModel.Name}'", nameof(newModel));
            }

            Volatile.Write(ref _model, newModel);
            _logger.LogInformation("Batcher for model {Model}: version {NewVersion} replaces version {OldVersion} from the next batch", old.Name, newModel.Version, old.Version);
            if (_running.Contains(old) && !ReferenceEquals(old, newModel))
            {
                var released = new TaskCompletionSource<IInferenceModel>(TaskCreationOptions.RunContinuationsAsynchronously);
                _releases.Add((old, released));
                return released.Task;
            }

            return Task.FromResult(old);
        }
    }

    /// <summary>A snapshot of the counters for metrics.</summary>
    public BatcherCounters GetCounters()
    {
        lock (_gate)
        {
            var batches = Interlocked.Read(ref _batchesRun);
            var count = (int)Math.Min(batches, RecentBatchCount);
            var recent = new int[count];
            for (var i = 0; i < count; i++)
            {
                recent[i] = _recent[(batches - count + i) % RecentBatchCount];
            }

            return new BatcherCounters(
                _queue.Count,
                _waitingForRoom.Count,
                _executing,
                Interlocked.Read(ref _batchesRun),
                Interlocked.Read(ref _requestsRun),
                Interlocked.Read(ref _refused),
                Interlocked.Read(ref _rejectedQueueFull),
                Interlocked.Read(ref _rejectedShuttingDown),
                Interlocked.Read(ref _failedModelRuns),
                recent)
            {
                BatchLimit = _batchLimit,
            };
        }
    }

    /// <summary>
    /// Graceful stop: accepts nothing new, rejects callers still waiting for room with
    /// shutting_down, runs everything queued at once (no delay), and completes when the last
    /// batch has finished. Cancelling <paramref name="cancellationToken"/> rejects what is still
    /// queued with shutting_down; the task then completes after the running batch.
    /// </summary>
    public async Task StopAsync(CancellationToken cancellationToken = default)
    {
        Stop(drain: true);
        using (cancellationToken.UnsafeRegister(static state => ((DynamicBatcher)state!).Stop(drain: false), this))
        {
            await _completion.Task.ConfigureAwait(false);
        }
    }

    /// <summary>Stops without draining (queued requests get shutting_down) and blocks until the running batches have finished.</summary>
    public void Dispose()
    {
        Stop(drain: false);
        foreach (var thread in _threads)
        {
            if (Thread.CurrentThread != thread)
            {
                thread.Join();
            }
        }
    }

    /// <summary>Stops without draining (queued requests get shutting_down) and completes when the running batches have finished.</summary>
    public async ValueTask DisposeAsync()
    {
        Stop(drain: false);
        if (!_threads.Contains(Thread.CurrentThread))
        {
            await _completion.Task.ConfigureAwait(false);
        }
    }

    public override string ToString() => $"batcher for {Model} ({Settings})";

    private Task<BatchResult> Submit(InferenceRequest request, bool waitForRoom, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (cancellationToken.IsCancellationRequested)
        {
            return Task.FromCanceled<BatchResult>(cancellationToken);
        }

        var arrivedAt = _time.GetTimestamp();
        var model = Model;
        if (model.Validate(request) is { } error)
        {
            Interlocked.Increment(ref _refused);
            return Task.FromResult(BatchResult.Refused(error, model.Name, model.Version));
        }

        var rows = model.Signature.IsBatchable ? Math.Max(1, request.Inputs[0].Rows) : 1;
        if (rows > Settings.MaxBatchSize)
        {
            return SubmitInParts(request, rows, model, waitForRoom, cancellationToken);
        }

        var pending = new PendingRequest(request, rows, arrivedAt);
        BatchRejectionReason? rejection = null;
        lock (_gate)
        {
            if (_stopping)
            {
                rejection = BatchRejectionReason.ShuttingDown;
            }
            else if (_queue.Count < Settings.MaxQueueSize && _waitingForRoom.Count == 0)
            {
                AddToQueue(pending, arrivedAt);
            }
            else if (waitForRoom)
            {
                pending.State = PendingState.WaitingForRoom;
                _waitingForRoom.AddLast(pending.Node);
            }
            else
            {
                rejection = BatchRejectionReason.QueueFull;
            }

            if (rejection is null && cancellationToken.CanBeCanceled)
            {
                pending.Watch(cancellationToken, _onCancelled);
            }
        }

        return rejection switch
        {
            null => pending.Task,
            BatchRejectionReason.QueueFull => Task.FromResult(QueueFull(model, request)),
            _ => Task.FromResult(ShuttingDown(model, request, queued: false)),
        };
    }

    /// <summary>
    /// A request with more rows than a batch runs as several parts of at most a batch each, queued
    /// one after another, and its answer joins their outputs. More parts than the queue can hold
    /// would never all fit, so such a request is refused with the most rows one request may have.
    /// </summary>
    private Task<BatchResult> SubmitInParts(InferenceRequest request, long rows, IInferenceModel model, bool waitForRoom, CancellationToken cancellationToken)
    {
        var maxRows = (long)Settings.MaxBatchSize * Settings.MaxQueueSize;
        if (rows > maxRows)
        {
            Interlocked.Increment(ref _refused);
            return Task.FromResult(BatchResult.Refused(
                new InferenceError(
                    InferenceErrorCode.ShapeMismatch,
                    $"request '{request.Id}' has {rows} rows but model '{model.Name}' takes at most {maxRows} rows in one request " +
                    $"({Settings.MaxQueueSize} queued batches of {Settings.MaxBatchSize} rows)"),
                model.Name,
                model.Version));
        }

        var parts = RequestParts.Split(request, rows, Settings.MaxBatchSize);
        var running = new Task<BatchResult>[parts.Length];
        for (var i = 0; i < parts.Length; i++)
        {
            running[i] = Submit(parts[i], waitForRoom, cancellationToken);
        }

        return JoinAsync(running);

        static async Task<BatchResult> JoinAsync(Task<BatchResult>[] running) =>
            RequestParts.Join(await Task.WhenAll(running).ConfigureAwait(false));
    }

    // Under _gate.
    private void AddToQueue(PendingRequest pending, long now)
    {
        pending.State = PendingState.Queued;
        pending.QueuedAt = now;
        _queue.AddLast(pending.Node);
        _queuedRows += pending.Rows;

        // The thread needs waking only to dispatch (or start the delay for) a new oldest request, or to
        // dispatch a full batch; otherwise it is already waiting for an earlier deadline or running a batch.
        if (_queue.Count == 1 || _queuedRows >= _batchLimit)
        {
            Monitor.Pulse(_gate);
        }
    }

    // Under _gate: hands freed queue room to callers waiting for it, oldest first.
    private void AdmitWaiting()
    {
        if (_waitingForRoom.Count == 0)
        {
            return;
        }

        var now = _time.GetTimestamp();
        while (_queue.Count < Settings.MaxQueueSize && _waitingForRoom.First is { } node)
        {
            _waitingForRoom.RemoveFirst();
            AddToQueue(node.Value, now);
        }
    }

    private void OnCancelled(PendingRequest pending, CancellationToken token)
    {
        lock (_gate)
        {
            switch (pending.State)
            {
                case PendingState.Queued:
                    _queue.Remove(pending.Node);
                    _queuedRows -= pending.Rows;
                    AdmitWaiting();

                    // The oldest request may have changed; let the thread re-arm its delay.
                    Monitor.Pulse(_gate);
                    break;
                case PendingState.WaitingForRoom:
                    _waitingForRoom.Remove(pending.Node);
                    break;
                default:
                    // Running or done: the result is (being) delivered.
                    return;
            }

            pending.State = PendingState.Done;
        }

        pending.Cancel(token);
    }

    private void OnDelayElapsed()
    {
        lock (_gate)
        {
            Monitor.Pulse(_gate);
        }
    }

    private void Stop(bool drain)
    {
        List<PendingRequest> rejected = [];
        IInferenceModel model;
        lock (_gate)
        {
            if (!_stopping)
            {
                _logger.LogInformation(
                    "Batcher for model {Model} stopping ({Mode}): {Queued} queued, {Waiting} waiting for room",
                    _model.Name,
                    drain ? "draining" : "rejecting queued requests",
                    _queue.Count,
                    _waitingForRoom.Count);
            }

            _stopping = true;
            model = _model;
            Take(_waitingForRoom, rejected);
            if (!drain)
            {
                Take(_queue, rejected);
                _queuedRows = 0;
            }

            Monitor.PulseAll(_gate);
        }

        foreach (var pending in rejected)
        {
            pending.Complete(ShuttingDown(model, pending.Request, queued: true));
        }

        static void Take(LinkedList<PendingRequest> list, List<PendingRequest> into)
        {
            while (list.First is { } node)
            {
                list.RemoveFirst();
                node.Value.State = PendingState.Done;
                into.Add(node.Value);
            }
        }
    }

    private void DispatchLoop()
    {
        try
        {
            while (NextBatch() is { } batch)
            {
                RunBatch(batch);
            }
        }
        catch (Exception e)
        {
            // Unreachable by design (model failures are caught per batch), but an exception
            // escaping a thread ends the process: fail what is left and stop instead.
            _logger.LogCritical(e, "Batcher for model {Model} failed; rejecting what is queued", Model.Name);
            Stop(drain: false);
        }
        finally
        {
            // The last thread out ends the batcher.
            if (Interlocked.Decrement(ref _threadsLeft) == 0)
            {
                _delayTimer.Dispose();
                _completion.TrySetResult();
            }
        }
    }

    // Blocks until a batch is due; null once stopped with nothing left to run.
    private Batch? NextBatch()
    {
        lock (_gate)
        {
            while (true)
            {
                if (_queue.First is { } oldest)
                {
                    // This thread runs no batch, so an instance is free: with DispatchWhenIdle whatever is queued goes now.
                    var waited = _time.GetElapsedTime(oldest.Value.QueuedAt);
                    if (Settings.DispatchWhenIdle || _queuedRows >= _batchLimit || _stopping || waited >= Settings.MaxQueueDelay)
                    {
                        return TakeBatch();
                    }

                    // Re-armed at every wake-up; an early or stale firing only causes a re-check.
                    _delayTimer.Change(Settings.MaxQueueDelay - waited, Timeout.InfiniteTimeSpan);
                }
                else if (_stopping)
                {
                    return null;
                }

                Monitor.Wait(_gate);
            }
        }
    }

    // Under _gate: the oldest requests that fit in the batch limit (always at least one).
    private Batch TakeBatch()
    {
        var items = new List<PendingRequest>(Math.Min(_queue.Count, _batchLimit));
        long rows = 0;
        while (_queue.First is { } node && (items.Count == 0 || rows + node.Value.Rows <= _batchLimit))
        {
            _queue.RemoveFirst();
            node.Value.State = PendingState.Running;
            rows += node.Value.Rows;
            items.Add(node.Value);
        }

        _queuedRows -= rows;
        AdmitWaiting();
        var model = _model;
        _running.Add(model);
        _executing += items.Count;
        // More may be queued than this batch took: another free instance can take it now.
        if (_queue.Count > 0)
        {
            Monitor.Pulse(_gate);
        }

        return new Batch(items, rows, model, _time.GetTimestamp());
    }

    /// <summary>
    /// Runs each request alone after its batch failed: the outcomes of those that ran, and the
    /// failure of each one that failed on its own (its outcome is then left null and never read).
    /// </summary>
    private (IReadOnlyList<InferenceOutcome> Outcomes, Exception?[] Failures) RunOneByOne(IInferenceModel model, InferenceRequest[] requests)
    {
        var outcomes = new InferenceOutcome[requests.Length];
        var failures = new Exception?[requests.Length];
        for (var i = 0; i < requests.Length; i++)
        {
            try
            {
                var alone = model.Run([requests[i]]);
                if (alone.Count == 1)
                {
                    outcomes[i] = alone[0];
                    continue;
                }
                failures[i] = new InvalidOperationException($"{model} returned {alone.Count} outcomes for one request");
            }
            catch (Exception e)
            {
                failures[i] = e;
            }
            _logger.LogError(failures[i], "Model {Model} version {Version} failed to run request {Id} on its own", model.Name, model.Version, requests[i].Id);
        }
        return (outcomes, failures);
    }

    private void RunBatch(Batch batch)
    {
        var requests = new InferenceRequest[batch.Items.Count];
        for (var i = 0; i < requests.Length; i++)
        {
            requests[i] = batch.Items[i].Request;
        }

        var model = batch.Model;
        IReadOnlyList<InferenceOutcome>? outcomes = null;
        Exception? failure = null;
        try
        {
            outcomes = model.Run(requests);
            if (outcomes.Count != requests.Length)
            {
                failure = new InvalidOperationException($"{model} returned {outcomes.Count} outcomes for a batch of {requests.Length} requests");
            }
        }
        catch (Exception e)
        {
            failure = e;
        }

        // One request the model cannot run (a poison input) must not fail the others batched with it:
        // run them one by one, so only the requests that fail alone are refused.
        Exception?[]? failedAlone = null;
        if (failure is not null && requests.Length > 1)
        {
            _logger.LogWarning(failure, "Model {Model} version {Version} failed a batch of {Count} requests; running them one by one",
                model.Name, model.Version, requests.Length);
            (outcomes, failedAlone) = RunOneByOne(model, requests);
            failure = null;
        }

        var inferenceTime = _time.GetElapsedTime(batch.StartedAt);
        if (failure is not null)
        {
            _logger.LogError(failure, "Model {Model} version {Version} failed a batch of {Count} requests", model.Name, model.Version, requests.Length);
        }

        var results = new BatchResult[requests.Length];
        int served = 0, refused = 0, failed = 0;
        for (var i = 0; i < results.Length; i++)
        {
            var timings = new BatchTimings(
                _time.GetElapsedTime(batch.Items[i].ArrivedAt, batch.StartedAt), inferenceTime, requests.Length, batch.Rows);
            if (failure is not null)
            {
                results[i] = BatchResult.Rejected(
                    new BatchRejection(BatchRejectionReason.ModelFailed, $"{model} failed to run the batch: {failure.Message}") { Cause = failure },
                    model.Name,
                    model.Version,
                    timings);
                failed++;
            }
            else if (failedAlone?[i] is { } alone)
            {
                results[i] = BatchResult.Rejected(
                    new BatchRejection(BatchRejectionReason.ModelFailed, $"{model} failed to run the request: {alone.Message}") { Cause = alone },
                    model.Name,
                    model.Version,
                    timings);
                failed++;
            }
            else if (outcomes![i] is { IsSuccess: true } outcome)
            {
                results[i] = BatchResult.Served(outcome.Outputs, model.Name, model.Version, timings);
                served++;
            }
            else
            {
                results[i] = BatchResult.Refused(outcomes[i].Error!, model.Name, model.Version, timings);
                refused++;
            }
        }

        List<(IInferenceModel Model, TaskCompletionSource<IInferenceModel> Released)> releases;
        int queueDepth;
        lock (_gate)
        {
            _running.Remove(model);
            _executing -= requests.Length;
            TuneBatchLimit(batch, results);
            _recent[Interlocked.Read(ref _batchesRun) % RecentBatchCount] = requests.Length;
            Interlocked.Increment(ref _batchesRun);
            Interlocked.Add(ref _requestsRun, requests.Length);
            Interlocked.Add(ref _refused, refused);
            Interlocked.Add(ref _failedModelRuns, failed);
            releases = [.. _releases.Where(r => !_running.Contains(r.Model))];
            _releases.RemoveAll(r => !_running.Contains(r.Model));
            queueDepth = _queue.Count;
        }

        if (_onBatch is not null)
        {
            try
            {
                _onBatch(new BatchReport(
                    model.Version, requests.Length, batch.Rows, inferenceTime, served, refused, failed, queueDepth));
            }
            catch (Exception e)
            {
                _logger.LogWarning(e, "Batch report hook of the batcher for model {Model} threw; ignored", model.Name);
            }
        }

        for (var i = 0; i < results.Length; i++)
        {
            batch.Items[i].Complete(results[i]);
        }

        foreach (var (old, released) in releases)
        {
            released.TrySetResult(old);
        }
    }

    /// <summary>
    /// Under _gate, after a batch: Clipper's AIMD on the batch limit when a latency objective is set.
    /// The batch's slowest request (queue + inference) is what the objective bounds; a batch that
    /// was not full says nothing about a larger one, so only a full one may raise the limit.
    /// </summary>
    private void TuneBatchLimit(Batch batch, BatchResult[] results)
    {
        if (Settings.LatencyObjective is not { } objective || results.Length == 0)
        {
            return;
        }

        var slowest = results.Max(r => r.Timings is { } t ? t.QueueTime + t.InferenceTime : TimeSpan.Zero);
        if (slowest > objective)
        {
            _batchLimit = Math.Max(1, (int)(_batchLimit * 0.9));
        }
        else if (batch.Rows >= _batchLimit && _batchLimit < Settings.MaxBatchSize)
        {
            _batchLimit++;
        }
    }

    private BatchResult QueueFull(IInferenceModel model, InferenceRequest request)
    {
        Interlocked.Increment(ref _rejectedQueueFull);
        return BatchResult.Rejected(
            new BatchRejection(
                BatchRejectionReason.QueueFull,
                $"model '{model.Name}' has {Settings.MaxQueueSize} requests queued (the limit); request '{request.Id}' was not queued"),
            model.Name,
            model.Version);
    }

    private BatchResult ShuttingDown(IInferenceModel model, InferenceRequest request, bool queued)
    {
        Interlocked.Increment(ref _rejectedShuttingDown);
        return BatchResult.Rejected(
            new BatchRejection(
                BatchRejectionReason.ShuttingDown,
                queued
                    ? $"the batcher for model '{model.Name}' stopped before request '{request.Id}' ran"
                    : $"the batcher for model '{model.Name}' is shutting down and accepts no new requests; request '{request.Id}' was not queued"),
            model.Name,
            model.Version);
    }

    private sealed record Batch(List<PendingRequest> Items, long Rows, IInferenceModel Model, long StartedAt);
}
