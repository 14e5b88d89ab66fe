using System.Text;
using Confluent.Kafka;
using Google.Protobuf;
using Mlops.Stream.Actors.Serving;
using Mlops.Stream.Actors.Tests.Batching;
using Mlops.Stream.Grpc.Protocol;
using Mlops.Stream.Inference.Wire;
using Mlops.Stream.Kafka.Embedded;

namespace Mlops.Stream.Actors.Tests.Serving;

/// <summary>
/// Binary request records (the protocol's protobuf ModelInferRequest, chosen by the record's
/// content-type header) on the same real Kafka path: answered in kind with the outputs the JSON
/// request gets, in the encoding the accept header asks for, and bad ones dead-lettered with their
/// bytes and a code, without stopping the stream.
/// </summary>
public sealed partial class ServingPipelineTests
{
    private static readonly float[] Values = [0.5f, -1.25f, 3f];

    [Fact]
    public async Task A_protobuf_request_is_answered_in_protobuf_with_the_outputs_the_same_request_gets_in_json()
    {
        using var broker = EmbeddedKafka.Start();
        var topics = CreateTopics(broker);
        await ProduceRecords(broker, topics.Requests, [
            Record("json", Encode(new InferenceRequest("json", [Tensor.Create("x", Values, Values.Length, 1)])), contentType: null),
            Record("typed", Typed("typed", Values).ToByteArray(), RecordContentTypes.ProtobufRequest),
            Record("raw", Raw("raw", Values).ToByteArray(), "application/x-protobuf"),
        ]);

        await using var run = await RunPipeline(broker, topics);
        await run.WaitUntilCommittedAsync(broker, topics.Requests, 3);

        var predictions = Read(broker, topics.Predictions).ToDictionary(p => Header(p, ServingHeaders.RequestId)!);
        Assert.Empty(Read(broker, topics.DeadLetters));
        Assert.Equal(RecordContentTypes.Json, Header(predictions["json"], RecordContentTypes.ContentTypeHeader));
        var json = Assert.Single(InferenceCodec.DecodeResponse(predictions["json"].Message.Value).Outputs);
        float[] expected = [.. Values.Select(v => v * 1)];
        Assert.Equal(expected, json.Span<float>().ToArray());

        foreach (var id in new[] { "typed", "raw" })
        {
            Assert.Equal(RecordContentTypes.ProtobufResponse, Header(predictions[id], RecordContentTypes.ContentTypeHeader));
            var response = ModelInferResponse.Parser.ParseFrom(predictions[id].Message.Value);
            Assert.Equal((id, Model, "1"), (response.Id, response.ModelName, response.ModelVersion));
            var output = Assert.Single(response.Outputs);
            Assert.Equal((json.Name, json.DataType.ToWireName()), (output.Name, output.Datatype));
            Assert.Equal(json.Shape, output.Shape);
            // Typed in, typed out; raw in, raw out (as on the gRPC edge).
            var values = id == "raw"
                ? Assert.Single(response.RawOutputContents).Span.ToArray().Chunk(4).Select(b => BitConverter.ToSingle(b)).ToArray()
                : output.Contents.Fp32Contents.ToArray();
            Assert.Equal(expected, values);
        }
    }

    [Fact]
    public async Task The_accept_header_chooses_the_prediction_encoding_whatever_the_request_encoding()
    {
        using var broker = EmbeddedKafka.Start();
        var topics = CreateTopics(broker);
        await ProduceRecords(broker, topics.Requests, [
            Record("proto-wants-json", Typed("proto-wants-json", Values).ToByteArray(), RecordContentTypes.ProtobufRequest, accept: "application/json"),
            Record("json-wants-proto", Encode(new InferenceRequest("json-wants-proto", [Tensor.Create("x", Values, Values.Length, 1)])),
                contentType: null, accept: RecordContentTypes.ProtobufResponse),
            Record("json-any", Encode(new InferenceRequest("json-any", [Tensor.Create("x", Values, Values.Length, 1)])), RecordContentTypes.Json, accept: "*/*"),
        ]);

        await using var run = await RunPipeline(broker, topics);
        await run.WaitUntilCommittedAsync(broker, topics.Requests, 3);

        var predictions = Read(broker, topics.Predictions).ToDictionary(p => Header(p, ServingHeaders.RequestId)!);
        Assert.Equal(RecordContentTypes.Json, Header(predictions["proto-wants-json"], RecordContentTypes.ContentTypeHeader));
        Assert.Equal(Values, InferenceCodec.DecodeResponse(predictions["proto-wants-json"].Message.Value).Outputs[0].Span<float>().ToArray());
        Assert.Equal(RecordContentTypes.ProtobufResponse, Header(predictions["json-wants-proto"], RecordContentTypes.ContentTypeHeader));
        Assert.Equal(Values, ModelInferResponse.Parser.ParseFrom(predictions["json-wants-proto"].Message.Value).Outputs[0].Contents.Fp32Contents);
        Assert.Equal(RecordContentTypes.Json, Header(predictions["json-any"], RecordContentTypes.ContentTypeHeader));
        Assert.Equal("json-any", InferenceCodec.DecodeResponse(predictions["json-any"].Message.Value).Id);
    }

    [Fact]
    public async Task Bad_binary_records_are_dead_lettered_with_their_bytes_and_a_code_and_the_stream_goes_on()
    {
        using var broker = EmbeddedKafka.Start();
        var topics = CreateTopics(broker);
        var shapeMismatch = Typed("shape", Values);
        shapeMismatch.Inputs[0].Shape[0] = 2;   // 3 elements for a [2,1] tensor
        var oddBytes = Raw("odd", Values);
        oddBytes.RawInputContents[0] = ByteString.CopyFrom(new byte[7]);   // not a whole number of 4-byte FP32 elements
        var missingRaw = Raw("missing", Values);
        missingRaw.Inputs.Add(new ModelInferRequest.Types.InferInputTensor { Name = "z", Datatype = "FP32", Shape = { 1, 1 } });   // 2 inputs, 1 raw entry
        var bad = new (string Id, byte[] Value, string ContentType, string? Accept, string Code)[]
        {
            ("truncated", [0x0A, 0x05, 0x01], RecordContentTypes.ProtobufRequest, null, RequestRecordCodec.InvalidProtobufCode),
            ("empty", [], RecordContentTypes.ProtobufRequest, null, RequestRecordCodec.InvalidProtobufCode),
            ("shape", shapeMismatch.ToByteArray(), RecordContentTypes.ProtobufRequest, null, "shape_mismatch"),
            ("odd", oddBytes.ToByteArray(), RecordContentTypes.ProtobufRequest, null, "shape_mismatch"),
            ("missing", missingRaw.ToByteArray(), RecordContentTypes.ProtobufRequest, null, "invalid_request"),
            ("csv", "0.5\n"u8.ToArray(), "text/csv", null, RecordContentTypes.UnsupportedContentTypeCode),
            ("wrong-message", Typed("wrong-message", Values).ToByteArray(), "application/x-protobuf; messageType=inference.ModelInferResponse", null,
                RecordContentTypes.UnsupportedContentTypeCode),
            ("bad-accept", Typed("bad-accept", Values).ToByteArray(), RecordContentTypes.ProtobufRequest, "text/xml", RecordContentTypes.UnsupportedContentTypeCode),
        };
        // Every bad record and a good one after them on one partition: the stream must reach the good one.
        await ProduceRecords(broker, topics.Requests,
            [.. bad.Select(b => Record(b.Id, b.Value, b.ContentType, b.Accept)), Record("good", Typed("good", Values).ToByteArray(), RecordContentTypes.ProtobufRequest)],
            sameKey: true);

        await using var run = await RunPipeline(broker, topics);
        await run.WaitUntilCommittedAsync(broker, topics.Requests, bad.Length + 1);

        Assert.Equal("good", Header(Assert.Single(Read(broker, topics.Predictions)), ServingHeaders.RequestId));
        var letters = Read(broker, topics.DeadLetters);
        Assert.Equal(bad.Length, letters.Count);
        foreach (var (id, value, contentType, _, code) in bad)
        {
            var letter = letters.Single(l => Header(l, "test-id") == id);
            Assert.Equal((id, code), (id, Header(letter, ServingHeaders.ErrorCode)));
            Assert.Equal(value, letter.Message.Value ?? []);
            Assert.Equal(contentType, Header(letter, RecordContentTypes.ContentTypeHeader));
            Assert.False(string.IsNullOrWhiteSpace(Header(letter, ServingHeaders.Error)));
        }
        Assert.Contains("not a protobuf inference.ModelInferRequest", Header(letters.Single(l => Header(l, "test-id") == "truncated"), ServingHeaders.Error));
        Assert.Contains("text/csv", Header(letters.Single(l => Header(l, "test-id") == "csv"), ServingHeaders.Error));
        Assert.False(run.Control.StreamCompletion.IsCompleted, "the stream must keep running");
    }

    /// <summary>A request for the fake model with its elements in contents.fp32_contents, [n,1].</summary>
    private static ModelInferRequest Typed(string id, float[] values)
    {
        var input = new ModelInferRequest.Types.InferInputTensor { Name = "x", Datatype = "FP32", Shape = { values.Length, 1 }, Contents = new InferTensorContents() };
        input.Contents.Fp32Contents.Add(values);
        return new ModelInferRequest { Id = id, ModelName = Model, Inputs = { input } };
    }

    /// <summary>The same request with its elements as raw little-endian bytes in raw_input_contents.</summary>
    private static ModelInferRequest Raw(string id, float[] values)
    {
        var request = Typed(id, values);
        request.Inputs[0].Contents = null;
        request.RawInputContents.Add(ByteString.CopyFrom([.. values.SelectMany(BitConverter.GetBytes)]));
        return request;
    }

    /// <summary>A request record; a test-id header names it on whatever it becomes (its dead letter keeps its headers).</summary>
    private static Message<string, byte[]> Record(string id, byte[] value, string? contentType, string? accept = null)
    {
        var headers = new Headers { { "test-id", Encoding.UTF8.GetBytes(id) } };
        if (contentType is not null) headers.Add(RecordContentTypes.ContentTypeHeader, Encoding.UTF8.GetBytes(contentType));
        if (accept is not null) headers.Add(RecordContentTypes.AcceptHeader, Encoding.UTF8.GetBytes(accept));
        return new Message<string, byte[]> { Key = id, Value = value, Headers = headers };
    }

    private static async Task ProduceRecords(EmbeddedKafka broker, string topic, IEnumerable<Message<string, byte[]>> records, bool sameKey = false)
    {
        using var producer = new ProducerBuilder<string, byte[]>(new ProducerConfig { BootstrapServers = broker.BootstrapServers }).Build();
        foreach (var record in records)
        {
            if (sameKey) record.Key = "one-partition";
            await producer.ProduceAsync(topic, record);
        }
    }
}
