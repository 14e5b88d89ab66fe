using Confluent.Kafka;

namespace Mlops.Stream.Kafka.Dsl;

/// <summary>One record to produce.</summary>
public sealed record ProducerRecord<TKey, TValue>(string Topic, TKey Key, TValue Value, Headers? Headers = null)
{
    internal Message<TKey, TValue> ToMessage() => new() { Key = Key, Value = Value, Headers = Headers };
}

/// <summary>
/// What the producer flow is asked to write for one element: one record, several records
/// (e.g. a prediction and a served event), or none (pass the context through, so the offset is
/// still committed in order).
/// </summary>
public sealed class ProducerEnvelope<TKey, TValue>
{
    internal ProducerEnvelope(IReadOnlyList<ProducerRecord<TKey, TValue>> records) => Records = records;

    public IReadOnlyList<ProducerRecord<TKey, TValue>> Records { get; }
}

public static class ProducerMessage
{
    public static ProducerEnvelope<TKey, TValue> Single<TKey, TValue>(ProducerRecord<TKey, TValue> record) => new([record]);

    public static ProducerEnvelope<TKey, TValue> Multi<TKey, TValue>(IReadOnlyList<ProducerRecord<TKey, TValue>> records) => new(records);

    public static ProducerEnvelope<TKey, TValue> PassThrough<TKey, TValue>() => new([]);
}

/// <summary>
/// The broker's acknowledgements for every record of one envelope, in envelope order: topic,
/// partition, offset and persistence status. Key and value are not copied back (the flow asks
/// librdkafka for the status fields only), so they are null here.
/// </summary>
public sealed record ProducerResults<TKey, TValue>(IReadOnlyList<DeliveryResult<TKey, TValue>> Deliveries);
