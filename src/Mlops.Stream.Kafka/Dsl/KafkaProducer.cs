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
}
