using Confluent.Kafka;

namespace Mlops.Stream.Kafka.Dsl;

/// <summary>
/// A record the producer flow could not deliver, and that had no fallback: the flow fails with
/// this. <see cref="Context"/> is the element's context (for a consumed record, its
/// <see cref="CommittableOffset"/>), so the failure can name the record that caused it.
/// </summary>
public sealed class ProducerDeliveryException(Error error, string topic, object? context)
    : KafkaException(new Error(error.Code, $"Delivery to {topic} failed: {error.Reason}", error.IsFatal))
{
    public string Topic { get; } = topic;

    public object? Context { get; } = context;
}
