using Confluent.Kafka;

namespace Mlops.Stream.Kafka.Dsl;

/// <summary>One record to produce.</summary>
public sealed record ProducerRecord<TKey, TValue>(string Topic, TKey Key, TValue Value, Headers? Headers = null)
{
    /// <summary>
    /// Called if the broker (or the client) refuses this record for good — too large, invalid
    /// (<see cref="Supervision.KafkaErrorDecider.IsRecordRefused"/>) — with the refusal; the record
    /// it returns is produced in this one's place, so that one bad record becomes, say, a dead
    /// letter with the reason instead of failing the flow. A fallback may have its own fallback.
    /// Without one, a refusal fails the flow.
    /// </summary>
    public Func<Error, ProducerRecord<TKey, TValue>>? Fallback { get; init; }

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
/// librdkafka for the status fields only), so they are null here. Where a record was refused and
/// its <see cref="ProducerRecord{TKey,TValue}.Fallback"/> written instead, the delivery is the
/// fallback's and <see cref="Refusals"/> says which record was refused and why.
/// </summary>
public sealed record ProducerResults<TKey, TValue>(IReadOnlyList<DeliveryResult<TKey, TValue>> Deliveries)
{
    public IReadOnlyList<RecordRefusal> Refusals { get; init; } = [];
}

/// <summary>A record of an envelope (by index) that was refused for good, with the refusal.</summary>
public sealed record RecordRefusal(int Index, string Topic, Error Error);
