using System.Runtime.InteropServices;
using System.Text;
using Confluent.Kafka;
using Google.Protobuf;
using Mlops.Stream.Actors.Serving;
using Mlops.Stream.Grpc.Protocol;
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

    /// <summary>
    /// The same request as the protocol's protobuf ModelInferRequest, its features as raw little-endian
    /// bytes in raw_input_contents (as Triton's and KServe's clients send binary tensors).
    /// </summary>
    public static byte[] ProtobufBody(string id)
    {
        var request = new ModelInferRequest
        {
            Id = id,
            Inputs = { new ModelInferRequest.Types.InferInputTensor { Name = InputName, Datatype = "FP32", Shape = { 1, FeatureCount } } },
        };
        request.RawInputContents.Add(ByteString.CopyFrom(MemoryMarshal.AsBytes(Row)));
        return request.ToByteArray();
    }

    /// <summary>The request record: key and <c>mlops-request-id</c> are the id, the value its body (JSON, or protobuf with its content-type header).</summary>
    public static Message<string, byte[]> Record(string id, RecordEncoding encoding = RecordEncoding.Json)
    {
        var headers = new Headers { { ServingHeaders.RequestId, Encoding.UTF8.GetBytes(id) } };
        if (encoding == RecordEncoding.Protobuf)
            headers.Add(RecordContentTypes.ContentTypeHeader, Encoding.UTF8.GetBytes(RecordContentTypes.ProtobufRequest));
        return new() { Key = id, Value = encoding == RecordEncoding.Json ? Body(id) : ProtobufBody(id), Headers = headers };
    }

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
