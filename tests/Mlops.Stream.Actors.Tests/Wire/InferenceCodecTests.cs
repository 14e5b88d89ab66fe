using System.Text;
using System.Text.Json;
using Mlops.Stream.Inference.Wire;

namespace Mlops.Stream.Actors.Tests.Wire;

public sealed class InferenceCodecTests
{
    private static InferenceRequest Decode(string json, DecodeOptions? options = null) =>
        InferenceCodec.DecodeRequest(Encoding.UTF8.GetBytes(json), options);

    private static InferenceError DecodeError(string json, DecodeOptions? options = null)
    {
        Assert.False(InferenceCodec.TryDecodeRequest(Encoding.UTF8.GetBytes(json), out _, out var error, options));
        return error;
    }

    [Fact]
    public void A_request_with_every_datatype_survives_an_encode_decode_round_trip()
    {
        using var parameters = JsonDocument.Parse("""{"priority": 3, "tag": "x"}""");
        var request = new InferenceRequest(
            "req-1",
            [
                Tensor.Create("f32", new[] { 1.5f, -2.25f, 3.4028235e38f, 1e-45f }, 2, 2),
                Tensor.Create("f64", new[] { Math.PI, -0.1 }, 2),
                Tensor.Create("i32", new[] { int.MinValue, int.MaxValue }, 2, 1),
                Tensor.Create("i64", new[] { long.MinValue, long.MaxValue, 0L }, 3),
                Tensor.Create("b", new[] { true, false }, 1, 2),
            ])
        {
            RequestedOutputs = ["probabilities"],
            Parameters = parameters.RootElement.EnumerateObject().ToDictionary(p => p.Name, p => p.Value.Clone()),
        };

        var decoded = InferenceCodec.DecodeRequest(InferenceCodec.EncodeRequest(request));

        Assert.Equal("req-1", decoded.Id);
        Assert.Equal(["probabilities"], decoded.RequestedOutputs!);
        Assert.Equal(3, decoded.Parameters!["priority"].GetInt32());
        Assert.Equal(request.Inputs.Select(i => i.ToString()), decoded.Inputs.Select(i => i.ToString()));
        Assert.Equal(request.Inputs[0].Span<float>().ToArray(), decoded.Inputs[0].Span<float>().ToArray());
        Assert.Equal(request.Inputs[1].Span<double>().ToArray(), decoded.Inputs[1].Span<double>().ToArray());
        Assert.Equal(request.Inputs[2].Span<int>().ToArray(), decoded.Inputs[2].Span<int>().ToArray());
        Assert.Equal(request.Inputs[3].Span<long>().ToArray(), decoded.Inputs[3].Span<long>().ToArray());
        Assert.Equal(request.Inputs[4].Span<bool>().ToArray(), decoded.Inputs[4].Span<bool>().ToArray());
    }

    [Fact]
    public void Nested_and_flat_data_decode_to_the_same_row_major_array()
    {
        var flat = Decode("""{"id":"a","inputs":[{"name":"x","shape":[2,3],"datatype":"FP32","data":[1,2,3,4,5,6]}]}""");
        var nested = Decode("""{"id":"a","inputs":[{"name":"x","shape":[2,3],"datatype":"FP32","data":[[1,2,3],[4,5,6]]}]}""");
        var deep = Decode("""{"id":"a","inputs":[{"name":"x","shape":[2,3,1],"datatype":"INT64","data":[[[1],[2],[3]],[[4],[5],[6]]]}]}""");

        Assert.Equal(new float[] { 1, 2, 3, 4, 5, 6 }, flat.Inputs[0].Span<float>().ToArray());
        Assert.Equal(flat.Inputs[0].Span<float>().ToArray(), nested.Inputs[0].Span<float>().ToArray());
        Assert.Equal(new long[] { 1, 2, 3, 4, 5, 6 }, deep.Inputs[0].Span<long>().ToArray());
        Assert.Equal([2L, 3L], nested.Inputs[0].Shape.ToArray());
    }

    [Fact]
    public void Data_may_come_before_shape_and_datatype_and_unknown_members_are_ignored()
    {
        var request = Decode("""{"inputs":[{"data":[[true],[false]],"extra":{"a":[1]},"datatype":"BOOL","name":"flag","shape":[2,1]}],"id":"z","future":1}""");

        Assert.Equal("z", request.Id);
        Assert.Equal(new[] { true, false }, request.Inputs[0].Span<bool>().ToArray());
    }

    [Fact]
    public void A_response_round_trips_and_non_finite_outputs_are_written_as_named_literals()
    {
        var response = new InferenceResponse(
            "r1", "fraud-demo", "3",
            [Tensor.Create("p", new[] { float.NaN, float.PositiveInfinity, 0.25f }, 1, 3), Tensor.Create("label", new[] { 1L }, 1)]);

        var bytes = InferenceCodec.EncodeResponse(response);
        var text = Encoding.UTF8.GetString(bytes);
        var decoded = InferenceCodec.DecodeResponse(bytes);

        Assert.Contains("\"NaN\"", text);
        Assert.Contains("\"model_version\":\"3\"", text);
        Assert.Equal(("r1", "fraud-demo", "3"), (decoded.Id, decoded.ModelName, decoded.ModelVersion));
        Assert.True(float.IsNaN(decoded.Outputs[0].Span<float>()[0]));
        Assert.Equal(float.PositiveInfinity, decoded.Outputs[0].Span<float>()[1]);
        Assert.Equal(1L, decoded.FindOutput("label")!.Span<long>()[0]);
    }

    [Fact]
    public void The_source_generated_context_writes_the_same_bytes_as_the_codec()
    {
        var response = new InferenceResponse("r", "m", "1", [Tensor.Create("y", new[] { 0.5f, 2f }, 2)]);
        var error = new InferenceError(InferenceErrorCode.ShapeMismatch, "bad shape");

        Assert.Equal(
            InferenceCodec.EncodeResponse(response),
            JsonSerializer.SerializeToUtf8Bytes(response, InferenceJsonContext.Default.InferenceResponse));
        Assert.Equal("""{"error":"bad shape","code":"shape_mismatch"}""", Encoding.UTF8.GetString(InferenceCodec.EncodeError(error)));
        Assert.Equal(error, JsonSerializer.Deserialize(InferenceCodec.EncodeError(error), InferenceJsonContext.Default.InferenceError));
        Assert.Equal(error, InferenceCodec.DecodeError(InferenceCodec.EncodeError(error)));
    }

    [Theory]
    [InlineData("""{"id":"a","inputs":[""", "invalid_json", "not valid JSON")]
    [InlineData("""{"id":"a","inputs":[]} trailing""", "invalid_json", "not valid JSON")]
    [InlineData("""[1,2]""", "invalid_request", "must be a JSON object")]
    [InlineData("""{"inputs":[{"name":"x","shape":[1],"datatype":"FP32","data":[1]}]}""", "invalid_request", "no \"id\"")]
    [InlineData("""{"id":7,"inputs":[]}""", "invalid_request", "\"id\" must be a string")]
    [InlineData("""{"id":"a","inputs":[{"name":"x","shape":[1],"datatype":"FP32"}]}""", "invalid_request", "input 'x' has no \"data\"")]
    [InlineData("""{"id":"a","inputs":[]}""", "missing_input", "no inputs")]
    [InlineData("""{"id":"a"}""", "missing_input", "no inputs")]
    [InlineData("""{"id":"a","inputs":[{"name":"x","shape":[1],"datatype":"FP32","data":[1]},{"name":"x","shape":[1],"datatype":"FP32","data":[2]}]}""", "duplicate_input", "'x'")]
    [InlineData("""{"id":"a","inputs":[{"name":"x","shape":[2,3],"datatype":"FP32","data":[1,2,3,4,5]}]}""", "shape_mismatch", "input 'x': shape [2,3] needs 6 elements but data has 5")]
    [InlineData("""{"id":"a","inputs":[{"name":"x","shape":[2,3],"datatype":"FP32","data":[1,2,3,4,5,6,7]}]}""", "shape_mismatch", "needs 6 elements but data has 7")]
    [InlineData("""{"id":"a","inputs":[{"name":"x","shape":[2,3],"datatype":"FP32","data":[[1,2],[3,4],[5,6]]}]}""", "shape_mismatch", "input 'x': nested data does not match shape [2,3]")]
    [InlineData("""{"id":"a","inputs":[{"name":"x","shape":[2,2],"datatype":"FP32","data":[[1,2],3,4]}]}""", "shape_mismatch", "input 'x'")]
    [InlineData("""{"id":"a","inputs":[{"name":"x","shape":[2,-1],"datatype":"FP32","data":[1]}]}""", "shape_mismatch", "non-negative integers")]
    [InlineData("""{"id":"a","inputs":[{"name":"x","shape":[1000000000000],"datatype":"FP32","data":[1]}]}""", "shape_mismatch", "more elements than the limit")]
    [InlineData("""{"id":"a","inputs":[{"name":"x","shape":[4294967296,4294967296,4294967296],"datatype":"FP32","data":[1]}]}""", "shape_mismatch", "more elements than the limit")]
    [InlineData("""{"id":"a","inputs":[{"name":"ids","shape":[2],"datatype":"INT64","data":[1,1.5]}]}""", "dtype_mismatch", "input 'ids': element 1 (1.5) is not a valid INT64 value")]
    [InlineData("""{"id":"a","inputs":[{"name":"ids","shape":[1],"datatype":"INT32","data":[3000000000]}]}""", "dtype_mismatch", "INT32")]
    [InlineData("""{"id":"a","inputs":[{"name":"x","shape":[2],"datatype":"FP32","data":[1,"abc"]}]}""", "dtype_mismatch", "(\"abc\") is not a valid FP32")]
    [InlineData("""{"id":"a","inputs":[{"name":"flag","shape":[1],"datatype":"BOOL","data":[1]}]}""", "dtype_mismatch", "BOOL")]
    [InlineData("""{"id":"a","inputs":[{"name":"x","shape":[1],"datatype":"FP16","data":[1]}]}""", "unsupported_datatype", "input 'x' has datatype 'FP16'")]
    [InlineData("""{"id":"a","inputs":[{"name":"x","shape":[2],"datatype":"FP32","data":[1,"NaN"]}]}""", "non_finite", "input 'x': element 1 is NaN")]
    [InlineData("""{"id":"a","inputs":[{"name":"x","shape":[1],"datatype":"FP32","data":[-1e39]}]}""", "non_finite", "-Infinity")]
    [InlineData("""{"id":"a","inputs":[{"name":"x","shape":[1],"datatype":"FP64","data":["Infinity"]}]}""", "non_finite", "Infinity")]
    public void Each_kind_of_bad_request_gets_its_error_code_and_a_message_naming_the_problem(string json, string code, string messagePart)
    {
        var error = DecodeError(json);

        Assert.Equal(code, error.WireCode);
        Assert.Contains(messagePart, error.Message);
    }

    [Fact]
    public void An_id_longer_than_the_limit_in_utf8_bytes_is_refused_with_its_own_code_and_a_short_message()
    {
        static string Body(string id) => $$"""{"id":"{{id}}","inputs":[{"name":"x","shape":[1],"datatype":"FP32","data":[1]}]}""";
        Assert.True(InferenceCodec.TryDecodeRequest(Encoding.UTF8.GetBytes(Body(new string('a', 1024))), out _, out _));
        // 512 two-byte characters are 1,024 bytes; one more is over.
        Assert.True(InferenceCodec.TryDecodeRequest(Encoding.UTF8.GetBytes(Body(new string('é', 512))), out _, out _));
        Assert.False(InferenceCodec.TryDecodeRequest(Encoding.UTF8.GetBytes(Body(new string('é', 513))), out _, out var error));
        Assert.Equal("id_too_long", error!.WireCode);
        Assert.Contains("1026 bytes", error.Message);
        Assert.True(error.Message.Length < 200, "the message must not repeat the whole id");

        var big = Encoding.UTF8.GetBytes(Body(new string('x', 520 * 1024)));
        Assert.False(InferenceCodec.TryDecodeRequest(big, out _, out error));
        Assert.Equal("id_too_long", error!.WireCode);
        Assert.True(InferenceCodec.TryDecodeRequest(big, out _, out _, DecodeOptions.Default with { MaxIdBytes = 1024 * 1024 }));
    }

    [Fact]
    public void Non_finite_values_are_kept_when_the_policy_allows_them()
    {
        var request = Decode(
            """{"id":"a","inputs":[{"name":"x","shape":[3],"datatype":"FP32","data":["NaN","-Infinity",1e39]}]}""",
            new DecodeOptions { NonFinite = NonFinitePolicy.Allow });

        var values = request.Inputs[0].Span<float>();
        Assert.True(float.IsNaN(values[0]));
        Assert.Equal(float.NegativeInfinity, values[1]);
        Assert.Equal(float.PositiveInfinity, values[2]);
    }

    [Fact]
    public void Every_error_code_has_a_distinct_wire_code_that_parses_back()
    {
        var codes = Enum.GetValues<InferenceErrorCode>();
        var wire = codes.Select(c => c.ToWireCode()).ToList();

        Assert.Equal(wire.Count, wire.Distinct().Count());
        Assert.All(codes, c => Assert.True(InferenceErrorCodes.TryParse(c.ToWireCode(), out var parsed) && parsed == c));
        Assert.All(wire, w => Assert.Matches("^[a-z_]+$", w));
    }

    [Fact]
    public void Encoding_into_a_caller_buffer_appends_the_same_bytes()
    {
        var response = new InferenceResponse("r", "m", "1", [Tensor.Create("y", new[] { 1L, 2L }, 2)]);
        var buffer = new System.Buffers.ArrayBufferWriter<byte>();

        InferenceCodec.EncodeResponse(buffer, response);
        InferenceCodec.EncodeResponse(buffer, response);

        var single = InferenceCodec.EncodeResponse(response);
        Assert.Equal([.. single, .. single], buffer.WrittenSpan.ToArray());
    }
}
