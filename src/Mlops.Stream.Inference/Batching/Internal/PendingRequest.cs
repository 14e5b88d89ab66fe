using Mlops.Stream.Inference.Wire;

namespace Mlops.Stream.Inference.Batching.Internal;

/// <summary>Where a request is in its batcher. Changed only under the batcher's lock.</summary>
internal enum PendingState
{
    WaitingForRoom,
    Queued,
    Running,
    Done,
}

/// <summary>
/// One request inside a <see cref="DynamicBatcher"/>: the caller's task, its row count and
/// timestamps. <see cref="Node"/> and <see cref="State"/> belong to the batcher's lock; the task
/// is completed outside it (continuations run asynchronously, never on the batcher's thread).
/// </summary>
internal sealed class PendingRequest
{
    private readonly TaskCompletionSource<BatchResult> _result = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private CancellationTokenRegistration _cancellation;

    public PendingRequest(InferenceRequest request, long rows, long arrivedAt)
    {
        Request = request;
        Rows = rows;
        ArrivedAt = arrivedAt;
        Node = new LinkedListNode<PendingRequest>(this);
    }

    public InferenceRequest Request { get; }

    /// <summary>Rows this request adds to a batch (at least one).</summary>
    public long Rows { get; }

    /// <summary>Timestamp (of the batcher's TimeProvider) of the enqueue call: the start of the reported queue time.</summary>
    public long ArrivedAt { get; }

    /// <summary>Timestamp at which the request joined the queue: the start of its MaxQueueDelay.</summary>
    public long QueuedAt { get; set; }

    /// <summary>The node this request occupies in the queue or the waiting-for-room list; reused when it moves.</summary>
    public LinkedListNode<PendingRequest> Node { get; }

    public PendingState State { get; set; }

    public Task<BatchResult> Task => _result.Task;

    /// <summary>
    /// Links the caller's token. Called under the batcher's lock as the request joins the queue or
    /// the waiting list, so the registration is stored before any other thread can complete the
    /// request; an already-cancelled token runs <paramref name="onCancelled"/> at once (the lock is
    /// re-entrant).
    /// </summary>
    public void Watch(CancellationToken token, Action<PendingRequest, CancellationToken> onCancelled)
    {
        _cancellation = token.UnsafeRegister(
            static (state, token) =>
            {
                var (pending, callback) = ((PendingRequest, Action<PendingRequest, CancellationToken>))state!;
                callback(pending, token);
            },
            (this, onCancelled));
    }

    /// <summary>Never call under the batcher's lock: disposing the registration waits for a running cancel callback, which takes that lock.</summary>
    public void Complete(BatchResult result)
    {
        if (_result.TrySetResult(result))
        {
            _cancellation.Dispose();
        }
    }

    public void Cancel(CancellationToken token) => _result.TrySetCanceled(token);
}
