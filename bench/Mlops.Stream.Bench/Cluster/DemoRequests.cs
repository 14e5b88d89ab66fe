using System.Text;
using Confluent.Kafka;
using Mlops.Stream.Actors.Serving;
using Mlops.Stream.Inference.Wire;

namespace Mlops.Stream.Bench.Cluster;

/// <summary>
/// Requests for the demo model as the load tests send them (one row of its 30 features), by HTTP
/// or as a Kafka record, and a produce that waits for room in the producer's queue instead of failing.
/// </summary>
public static class DemoRequests
{
    public const string InputName = "features";
    public const int FeatureCount = 30;

    private static readonly float[] Features = [.. Enumerable.Range(0, FeatureCount).Select(i => i / 30f)];

    /// <summary>The demo features, one row.</summary>
    public static ReadOnlySpan<float> Row => Features;

    /// <summary>The Open Inference Protocol v2 request body with id <paramref name="id"/>.</summary>
    public static byte[] Body(string id) =>
        InferenceCodec.EncodeRequest(new InferenceRequest(id, [Tensor.Create(InputName, Features, 1, FeatureCount)]));

    /// <summary>The request record: key and <c>mlops-request-id</c> are the id, the value its body.</summary>
    public static Message<string, byte[]> Record(string id) => new()
    {
        Key = id,
        Value = Body(id),
        Headers = new Headers { { ServingHeaders.RequestId, Encoding.UTF8.GetBytes(id) } },
    };

    /// <summary>Produces <paramref name="message"/>, polling for delivery reports while the producer's queue is full.</summary>
    public static void ProduceWhenRoom<TKey, TValue>(IProducer<TKey, TValue> producer, string topic, Message<TKey, TValue> message,
        Action<DeliveryReport<TKey, TValue>>? delivered = null)
    {
        while (true)
        {
            try
            {
                producer.Produce(topic, message, delivered);
                return;
            }
            catch (ProduceException<TKey, TValue> e) when (e.Error.Code == ErrorCode.Local_QueueFull)
            {
                producer.Poll(TimeSpan.FromMilliseconds(10));
            }
        }
    }
}
