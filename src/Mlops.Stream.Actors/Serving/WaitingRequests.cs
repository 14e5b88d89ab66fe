using Akka.Actor;
using Mlops.Stream.Inference.Gateway;

namespace Mlops.Stream.Actors.Serving;

/// <summary>
/// HTTP requests a replica holds while its model loads on demand (a cold start) or unloads, in
/// arrival order, at most <paramref name="capacity"/>: past that a request is answered NotReady at
/// once, so nothing buffers without bound. Each caller still waits only within its own deadline.
/// Used on the replica actor's thread only.
/// </summary>
internal sealed class WaitingRequests(string model, int capacity)
{
    private readonly Queue<(IActorRef Sender, Infer Request)> _queue = new();

    public int Count => _queue.Count;

    public void Add(IActorRef sender, Infer request)
    {
        if (_queue.Count >= capacity)
        {
            sender.Tell(new InferReply.NotReady($"Model '{model}' is loading and {capacity} requests already wait for it; try again."));
            return;
        }
        _queue.Enqueue((sender, request));
    }

    /// <summary>The model serves now: every held request goes through the replica again, as if just arrived.</summary>
    public void ResendTo(IActorRef replica)
    {
        while (_queue.TryDequeue(out var waiting)) replica.Tell(waiting.Request, waiting.Sender);
    }

    /// <summary>The load failed or was refused: every held request gets <paramref name="reply"/>.</summary>
    public void AnswerAll(InferReply reply)
    {
        while (_queue.TryDequeue(out var waiting)) waiting.Sender.Tell(reply);
    }
}
