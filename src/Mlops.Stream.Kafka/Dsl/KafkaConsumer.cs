using Akka.Streams.Dsl;
using Confluent.Kafka;
using Mlops.Stream.Kafka.Internal;
using Mlops.Stream.Kafka.Settings;

namespace Mlops.Stream.Kafka.Dsl;

/// <summary>Kafka consumer sources (shaped like Akka.Streams.Kafka's <c>KafkaConsumer</c>).</summary>
public static class KafkaConsumer
{
    /// <summary>
    /// At-least-once source: every record comes with its <see cref="CommittableOffset"/> as context.
    /// Keep the context with the element (<c>FlowWithContext</c>) and end in
    /// <see cref="Committer.SinkWithOffsetContext{E}"/>: an offset is committed only once every
    /// earlier record of its partition has reached the committer. Every element must reach it
    /// (use <see cref="ProducerMessage.PassThrough{K,V}"/> instead of filtering), or commits of
    /// that partition stop at the dropped record.
    /// </summary>
    public static SourceWithContext<ConsumeResult<TKey, TValue>, CommittableOffset, IConsumerControl> SourceWithOffsetContext<TKey, TValue>(
        ConsumerSettings<TKey, TValue> settings, Subscription subscription) =>
        new(Source.FromGraph(new ConsumerStage<TKey, TValue>(settings, subscription)));
}
