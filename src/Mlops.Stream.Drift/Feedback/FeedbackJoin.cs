namespace Mlops.Stream.Drift.Feedback;

/// <summary>A label that met its served event, with what the caller handed in beside the label (its offset).</summary>
public sealed record JoinMatch<TContext>(ServedPrediction Served, FeedbackLabel Label, TContext Context);

/// <summary>A label given up on (its event never came, or a later label replaced it), with its context.</summary>
public sealed record JoinMiss<TContext>(FeedbackFailure Failure, TContext Context);

/// <summary>What one step of the join did: labels matched, labels given up, served events evicted unlabelled.</summary>
public sealed record JoinStep<TContext>(IReadOnlyList<JoinMatch<TContext>> Matched, IReadOnlyList<JoinMiss<TContext>> Missed, int ServedEvicted)
{
    public static JoinStep<TContext> Nothing { get; } = new([], [], 0);
}

/// <summary>
/// Joins ground-truth labels to served events by request id, in bounded memory, whichever comes
/// first: the predictions of the most recent <see cref="FeedbackJoinOptions.MaxServed"/> served
/// events wait for their label (the oldest is evicted, counted in <see cref="JoinStep{TContext}.ServedEvicted"/>),
/// and a label read before its event waits for it at most <see cref="FeedbackJoinOptions.LabelWait"/>,
/// with at most <see cref="FeedbackJoinOptions.MaxWaitingLabels"/> waiting (then it is missed as
/// <see cref="FeedbackFailureReason.UnknownId"/>). A served event is matched once: its entry goes
/// with its label. Generic in the context a label carries (its Kafka offset, in the job) so it is
/// tested without Kafka. Not thread-safe.
/// </summary>
public sealed class FeedbackJoin<TContext>(FeedbackJoinOptions options)
{
    private sealed record Waiting(FeedbackLabel Label, TContext Context, DateTimeOffset Since);

    private readonly LinkedList<ServedPrediction> _servedOrder = new();
    private readonly Dictionary<string, LinkedListNode<ServedPrediction>> _served = new(StringComparer.Ordinal);
    private readonly LinkedList<Waiting> _waitingOrder = new();
    private readonly Dictionary<string, LinkedListNode<Waiting>> _waiting = new(StringComparer.Ordinal);

    /// <summary>Served events kept for their label.</summary>
    public int ServedCount => _served.Count;

    /// <summary>Labels waiting for their served event.</summary>
    public int WaitingCount => _waiting.Count;

    /// <summary>A served event: matched at once to a label waiting for it, else kept for its label.</summary>
    public JoinStep<TContext> AddServed(ServedPrediction served)
    {
        if (_waiting.Remove(served.Id, out var waiting))
        {
            _waitingOrder.Remove(waiting);
            return new JoinStep<TContext>([new JoinMatch<TContext>(served, waiting.Value.Label, waiting.Value.Context)], [], 0);
        }

        // The same id served again (a redelivered request): the newer prediction replaces the older.
        if (_served.Remove(served.Id, out var older))
        {
            _servedOrder.Remove(older);
        }

        _served[served.Id] = _servedOrder.AddLast(served);
        var evicted = 0;
        while (_served.Count > options.MaxServed)
        {
            _served.Remove(_servedOrder.First!.Value.Id);
            _servedOrder.RemoveFirst();
            evicted++;
        }

        return evicted == 0 ? JoinStep<TContext>.Nothing : new JoinStep<TContext>([], [], evicted);
    }

    /// <summary>
    /// A label: matched at once to its served event when kept, else it waits (from <paramref name="now"/>).
    /// Labels that waited too long, or the oldest beyond the bound, are missed in the same step.
    /// </summary>
    public JoinStep<TContext> AddLabel(FeedbackLabel label, TContext context, DateTimeOffset now)
    {
        var missed = Expired(now);
        if (_served.Remove(label.Id, out var served))
        {
            _servedOrder.Remove(served);
            return new JoinStep<TContext>([new JoinMatch<TContext>(served.Value, label, context)], missed, 0);
        }

        if (_waiting.Remove(label.Id, out var replaced))
        {
            _waitingOrder.Remove(replaced);
            missed.Add(Miss(replaced.Value, FeedbackFailureReason.Superseded, "a later label for the same request id replaced it"));
        }

        _waiting[label.Id] = _waitingOrder.AddLast(new Waiting(label, context, now));
        while (_waiting.Count > options.MaxWaitingLabels)
        {
            var oldest = _waitingOrder.First!.Value;
            _waiting.Remove(oldest.Label.Id);
            _waitingOrder.RemoveFirst();
            missed.Add(Miss(oldest, FeedbackFailureReason.UnknownId,
                $"no served event with this id came before {options.MaxWaitingLabels} newer labels were waiting"));
        }

        return missed.Count == 0 ? JoinStep<TContext>.Nothing : new JoinStep<TContext>([], missed, 0);
    }

    /// <summary>Gives up on labels that waited <see cref="FeedbackJoinOptions.LabelWait"/> by <paramref name="now"/>.</summary>
    public JoinStep<TContext> Expire(DateTimeOffset now)
    {
        var missed = Expired(now);
        return missed.Count == 0 ? JoinStep<TContext>.Nothing : new JoinStep<TContext>([], missed, 0);
    }

    private List<JoinMiss<TContext>> Expired(DateTimeOffset now)
    {
        var missed = new List<JoinMiss<TContext>>();
        while (_waitingOrder.First is { } first && now - first.Value.Since >= options.LabelWait)
        {
            _waiting.Remove(first.Value.Label.Id);
            _waitingOrder.RemoveFirst();
            missed.Add(Miss(first.Value, FeedbackFailureReason.UnknownId,
                $"no served event with this id was seen in the join window (the last {options.MaxServed} events, or within {options.LabelWait} after the label)"));
        }

        return missed;
    }

    private static JoinMiss<TContext> Miss(Waiting waiting, FeedbackFailureReason reason, string why) =>
        new(new FeedbackFailure(reason, $"label for request {waiting.Label.Id}: {why}", waiting.Label.Partition, waiting.Label.Offset), waiting.Context);
}
