using Akka;
using Akka.Streams.Dsl;
using Mlops.Stream.Kafka.Internal;
using Mlops.Stream.Kafka.Settings;

namespace Mlops.Stream.Kafka.Dsl;

/// <summary>Kafka producer flows (shaped like Akka.Streams.Kafka's <c>KafkaProducer</c>).</summary>
public static class KafkaProducer
{
    /// <summary>
    /// Produces each envelope's records and emits its results, with the context passed through,
    /// only after the broker acknowledged every one of them. Elements leave in the order they came,
    /// so offsets reach the committer in order. At most <c>Parallelism</c> envelopes are unacknowledged
    /// at once. A record whose delivery fails (after librdkafka's retries) fails the flow.
    /// </summary>
    public static FlowWithContext<ProducerEnvelope<TKey, TValue>, TContext, ProducerResults<TKey, TValue>, TContext, NotUsed>
        FlexiFlowWithContext<TKey, TValue, TContext>(ProducerSettings<TKey, TValue> settings) =>
        FlowWithContext.From(Flow.FromGraph(new ProducerStage<TKey, TValue, TContext>(settings)));

    /// <summary>
    /// Exactly-once: produces each envelope's records in a Kafka transaction that also commits the
    /// element's consumed offset (<paramref name="offsetOf"/>, for the consumer of a source built with
    /// <c>WithTransactionalOffsets()</c>), and emits the element only once that transaction committed.
    /// Transactions commit every <c>CommitInterval</c> or <c>MaxElements</c> elements. A failure fails the
    /// flow and aborts the open transaction, so outputs and offsets are written together or not at
    /// all; readers of the output topics must use <c>isolation.level=read_committed</c>.
    /// The element that reaches a committer afterwards has nothing left to commit (the committer's
    /// commit is then bookkeeping only).
    /// </summary>
    public static FlowWithContext<ProducerEnvelope<TKey, TValue>, TContext, ProducerResults<TKey, TValue>, TContext, NotUsed>
        TransactionalFlowWithContext<TKey, TValue, TContext>(ProducerSettings<TKey, TValue> settings, Func<TContext, CommittableOffset> offsetOf)
    {
        if (settings.Transactions is null)
            throw new ArgumentException("Transactional producer settings are required (WithTransactions).", nameof(settings));
        return FlowWithContext.From(Flow.FromGraph(new ProducerStage<TKey, TValue, TContext>(settings, offsetOf)));
    }
}
