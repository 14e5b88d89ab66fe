using System.Buffers.Binary;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Mlops.Stream.Http.Tests.Support;
using Mlops.Stream.Inference.Gateway;
using Mlops.Stream.Inference.Wire;

namespace Mlops.Stream.Http.Tests;

/// <summary>
/// The Open Inference Protocol's binary tensor extension on /v2 infer: a binary request reaches the
/// gateway as the v2 JSON it stands for, an answer asked for in binary comes back so, and a body
/// whose header or sizes do not add up is a 400 naming what is wrong.
/// </summary>
public sealed class BinaryTensorTests : IAsyncLifetime
{
    private TestApp _app = null!;

    public async Task InitializeAsync() => _app = await TestApp.StartAsync(o => o.MaxRequestBodyBytes = 64 * 1024);

    public async Task DisposeAsync() => await _app.DisposeAsync();

    [Fact]
    public async Task A_binary_request_reaches_the_gateway_as_the_json_request_with_the_same_elements()
    {
        float[] features = [0.5f, -1.25f, 3.1415927f, 1e-7f];
        var header = """{"id":"b1","inputs":[{"name":"x","datatype":"FP32","shape":[2,2],"parameters":{"binary_data_size":16}},""" +
                     """{"name":"k","datatype":"INT64","shape":[1],"data":[7]}]}""";
        _app.Gateway.Reply(new InferReply.Served("""{"id":"b1","model_name":"fraud","model_version":"1","outputs":[]}"""u8.ToArray(), 1));

        using var response = await _app.Http.PostAsync("/v2/models/fraud/infer", Binary(header, Floats(features)));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var sent = InferenceCodec.DecodeRequest(Assert.Single(_app.Gateway.Calls).Body);
        Assert.Equal("b1", sent.Id);
        Assert.Equal(features, sent.Inputs[0].Span<float>().ToArray());
        Assert.Equal([2L, 2L], sent.Inputs[0].Shape.ToArray());
        Assert.Equal([7L], sent.Inputs[1].Span<long>().ToArray());
        Assert.DoesNotContain("binary_data_size", Encoding.UTF8.GetString(_app.Gateway.Calls.Single().Body));
    }

    [Fact]
    public async Task An_answer_asked_for_in_binary_carries_the_outputs_elements_after_its_json_header()
    {
        var answer = """{"id":"b2","model_name":"fraud","model_version":"1","outputs":[""" +
                     """{"name":"probabilities","datatype":"FP32","shape":[1,2],"data":[0.25,0.75]},{"name":"label","datatype":"INT64","shape":[1],"data":[1]}]}""";
        _app.Gateway.Reply(new InferReply.Served(Encoding.UTF8.GetBytes(answer), 1));
        var request = """
            {"id":"b2","inputs":[{"name":"x","datatype":"FP32","shape":[1,1],"data":[1]}],"outputs":[{"name":"probabilities","parameters":{"binary_data":true}},{"name":"label"}]}
            """;

        using var response = await _app.Http.PostAsync("/v2/models/fraud/infer", new StringContent(request, Encoding.UTF8, "application/json"));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("application/octet-stream", response.Content.Headers.ContentType?.MediaType);
        var length = int.Parse(response.Headers.GetValues("Inference-Header-Content-Length").Single());
        var body = await response.Content.ReadAsByteArrayAsync();
        using var header = JsonDocument.Parse(body.AsMemory(0, length));
        var outputs = header.RootElement.GetProperty("outputs");
        Assert.False(outputs[0].TryGetProperty("data", out _));
        Assert.Equal(8, outputs[0].GetProperty("parameters").GetProperty("binary_data_size").GetInt32());
        Assert.Equal([1L], outputs[1].GetProperty("data").EnumerateArray().Select(e => e.GetInt64()));
        Assert.Equal(8, body.Length - length);
        Assert.Equal([0.25f, 0.75f], [BinaryPrimitives.ReadSingleLittleEndian(body.AsSpan(length)), BinaryPrimitives.ReadSingleLittleEndian(body.AsSpan(length + 4))]);
    }

    [Theory]
    [InlineData("999", 16, "Inference-Header-Content-Length is '999'")]
    [InlineData("abc", 16, "Inference-Header-Content-Length is 'abc'")]
    [InlineData(null, 12, "binary_data_size 16 is not within the 12 bytes of binary data left")]
    [InlineData(null, 20, "the inputs' binary_data_size add up to 16")]
    public async Task A_body_whose_header_length_or_sizes_do_not_add_up_is_a_400_saying_which(string? headerLength, int binaryBytes, string expected)
    {
        var header = """{"id":"bad","inputs":[{"name":"x","datatype":"FP32","shape":[2,2],"parameters":{"binary_data_size":16}}]}""";
        var content = Binary(header, new byte[binaryBytes], headerLength);

        using var response = await _app.Http.PostAsync("/v2/models/fraud/infer", content);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains(expected, await response.Content.ReadAsStringAsync());
        Assert.Empty(_app.Gateway.Calls);
    }

    [Fact]
    public async Task Binary_elements_of_the_wrong_size_for_their_datatype_are_a_shape_mismatch()
    {
        var header = """{"id":"odd","inputs":[{"name":"x","datatype":"INT64","shape":[1],"parameters":{"binary_data_size":6}}]}""";

        using var response = await _app.Http.PostAsync("/v2/models/fraud/infer", Binary(header, new byte[6]));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var error = await response.Content.ReadAsStringAsync();
        Assert.Contains("shape_mismatch", error);
        Assert.Contains("not a whole number of 8-byte INT64 elements", error);
    }

    private static ByteArrayContent Binary(string header, byte[] binary, string? headerLength = null)
    {
        var json = Encoding.UTF8.GetBytes(header);
        var content = new ByteArrayContent([.. json, .. binary]);
        content.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
        content.Headers.Add("Inference-Header-Content-Length", headerLength ?? json.Length.ToString());
        return content;
    }

    private static byte[] Floats(float[] values)
    {
        var bytes = new byte[values.Length * 4];
        for (var i = 0; i < values.Length; i++) BinaryPrimitives.WriteSingleLittleEndian(bytes.AsSpan(i * 4), values[i]);
        return bytes;
    }
}
