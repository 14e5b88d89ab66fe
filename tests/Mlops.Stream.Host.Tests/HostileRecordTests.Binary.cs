using System.Runtime.InteropServices;
using Confluent.Kafka;
using Google.Protobuf;
using Mlops.Stream.Actors.Serving;
using Mlops.Stream.Grpc.Protocol;
using Mlops.Stream.Host.Tests.Infrastructure;
using Mlops.Stream.Inference.Wire;
using Mlops.Stream.Kafka.Embedded;
using Mlops.Stream.Kafka.Topics;

namespace Mlops.Stream.Host.Tests;

/// <summary>
/// Protobuf request records (content-type header) on a real node with the demo model: answered with
/// bit for bit the outputs the same request gets as JSON, and a record that is not protobuf at all
/// dead-lettered with its bytes beside them.
/// </summary>
public sealed partial class HostileRecordTests
{
    [Fact]
    public async Task A_protobuf_request_record_gets_bit_for_bit_the_outputs_of_the_same_json_request_from_the_demo_model()
    {
        using var broker = EmbeddedKafka.Start();
        var topics = ModelTopics.For(TopicCatalog.Default, Model);
        broker.CreateTopics(TopicCatalog.Default.DeclareAll([Model]));
        await using var node = await TestNode.StartAsync($"--Kafka:BootstrapServers={broker.BootstrapServers}");
        await node.WaitForOkAsync("/healthz/ready");

        var features = InferenceCodec.DecodeRequest(Request("json")).Inputs[0].Span<float>().ToArray();
        var typed = new ModelInferRequest { Id = "typed", Inputs = { Input() } };
        typed.Inputs[0].Contents = new InferTensorContents { Fp32Contents = { features } };
        var raw = new ModelInferRequest { Id = "raw", Inputs = { Input() }, RawInputContents = { ByteString.CopyFrom(MemoryMarshal.AsBytes(features.AsSpan())) } };
        var garbage = new byte[] { 0x0A, 0x7F, 0x01, 0x02 };   // field 1 claims 127 bytes, 2 follow
        Headers Protobuf(string id) => new()
        {
            { ServingHeaders.RequestId, Bytes(id) },
            { RecordContentTypes.ContentTypeHeader, Bytes(RecordContentTypes.ProtobufRequest) },
        };
        Sent[] records =
        [
            new("json", 0, Bytes("json"), Request("json"), new Headers { { ServingHeaders.RequestId, Bytes("json") } }, null),
            new("typed", 1, Bytes("typed"), typed.ToByteArray(), Protobuf("typed"), null),
            new("raw", 2, Bytes("raw"), raw.ToByteArray(), Protobuf("raw"), null),
            new("garbage", 2, Bytes("garbage"), garbage, Protobuf("garbage"), RequestRecordCodec.InvalidProtobufCode),
        ];
        await Produce(broker.BootstrapServers, topics.Requests, records);
        await Eventually.HoldsAsync(() => Lag(broker.BootstrapServers, topics.Requests) == 0, "every request offset is committed",
            state: () => Lag(broker.BootstrapServers, topics.Requests));

        var predictions = ReadAll(broker.BootstrapServers, topics.Predictions).ToDictionary(p => Header(p, ServingHeaders.RequestId)!);
        Assert.Equal(3, predictions.Count);
        var expected = InferenceCodec.DecodeResponse(predictions["json"].Message.Value);
        foreach (var id in new[] { "typed", "raw" })
        {
            Assert.Equal(RecordContentTypes.ProtobufResponse, Header(predictions[id], RecordContentTypes.ContentTypeHeader));
            var response = ModelInferResponse.Parser.ParseFrom(predictions[id].Message.Value);
            Assert.Equal(expected.Outputs.Select(o => (o.Name, o.DataType.ToWireName())), response.Outputs.Select(o => (o.Name, o.Datatype)));
            for (var i = 0; i < expected.Outputs.Count; i++)
            {
                Assert.Equal(expected.Outputs[i].Shape, response.Outputs[i].Shape);
                // Raw in, raw out: the raw bytes are the JSON answer's elements exactly; typed in, typed out.
                var bytes = id == "raw" ? response.RawOutputContents[i].ToByteArray() : TypedBytes(response.Outputs[i].Contents);
                Assert.Equal(RawTensorElements.Of(expected.Outputs[i]), bytes);
            }
        }

        var letter = Assert.Single(ReadAll(broker.BootstrapServers, topics.DeadLetters));
        Assert.Equal(RequestRecordCodec.InvalidProtobufCode, Header(letter, ServingHeaders.ErrorCode));
        Assert.Equal(garbage, letter.Message.Value);
        Assert.Equal(RecordContentTypes.ProtobufRequest, Header(letter, RecordContentTypes.ContentTypeHeader));
        Assert.Equal(3, ReadAll(broker.BootstrapServers, topics.Served).Count);
    }

    private static ModelInferRequest.Types.InferInputTensor Input() => new() { Name = "features", Datatype = "FP32", Shape = { 1, Features } };

    /// <summary>The demo model's outputs (FP32 probabilities, INT64 labels) as little-endian bytes, as raw contents would carry them.</summary>
    private static byte[] TypedBytes(InferTensorContents contents) =>
        contents.Fp32Contents.Count > 0
            ? MemoryMarshal.AsBytes(contents.Fp32Contents.ToArray().AsSpan()).ToArray()
            : MemoryMarshal.AsBytes(contents.Int64Contents.ToArray().AsSpan()).ToArray();
}
