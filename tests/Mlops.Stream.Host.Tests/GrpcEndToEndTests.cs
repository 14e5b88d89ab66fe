using System.Buffers.Binary;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using Google.Protobuf;
using Grpc.Core;
using Grpc.Net.Client;
using Mlops.Stream.Grpc;
using Mlops.Stream.Grpc.Protocol;
using Mlops.Stream.Host.Tests.Infrastructure;
using Mlops.Stream.Http;
using Mlops.Stream.Inference.Wire;

namespace Mlops.Stream.Host.Tests;

/// <summary>One node for all of <see cref="GrpcEndToEndTests"/> (none of them changes it), with a gRPC client found through /api/v1/system.</summary>
public sealed class GrpcNodeFixture : IAsyncLifetime
{
    public const string InferKey = "grpc-e2e-infer-key-4f3e2d1c";

    private GrpcChannel _channel = null!;

    public TestNode Node { get; private set; } = null!;

    public GRPCInferenceService.GRPCInferenceServiceClient Grpc { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        Node = await TestNode.StartAsync($"--Security:InferKeys:0={InferKey}");
        await Node.WaitForOkAsync("/healthz/ready");
        // With no admin key on a loopback node the admin API is open: /api/v1/system tells where gRPC listens.
        var system = await Node.Http.GetFromJsonAsync<SystemInfo>("/api/v1/system");
        _channel = GrpcChannel.ForAddress(system!.GrpcAddress!);
        Grpc = new GRPCInferenceService.GRPCInferenceServiceClient(_channel);
    }

    public async Task DisposeAsync()
    {
        _channel.Dispose();
        await Node.DisposeAsync();
    }
}

/// <summary>
/// The gRPC edge of a real node with the demo model: a .NET gRPC client gets exactly what an HTTP
/// caller gets for the same input, typed or raw, and each error the HTTP edge answers has its gRPC
/// status. The node requires an infer key, sent on both edges.
/// </summary>
public sealed class GrpcEndToEndTests(GrpcNodeFixture fixture) : IClassFixture<GrpcNodeFixture>
{
    private const string Model = "fraud-demo";
    private const string InferKey = GrpcNodeFixture.InferKey;

    // Two rows of 30 features: values without a short decimal form, so any rounding on either edge would show.
    private static readonly float[] Features = [.. Enumerable.Range(0, 60).Select(i => MathF.Sin(i) * 3.3f)];

    private TestNode Node => fixture.Node;

    private GRPCInferenceService.GRPCInferenceServiceClient Grpc => fixture.Grpc;

    private static CallOptions Keyed => new(headers: new Metadata { { "authorization", "Bearer " + InferKey } });

    [Fact]
    public async Task The_grpc_port_is_its_own_was_chosen_at_start_and_is_in_the_system_info()
    {
        var system = await Node.Http.GetFromJsonAsync<SystemInfo>("/api/v1/system");
        var grpc = new Uri(system!.GrpcAddress!);

        Assert.Equal("127.0.0.1", grpc.Host);
        Assert.NotEqual(0, grpc.Port);
        Assert.NotEqual(Node.Address.Port, grpc.Port);
    }

    [Fact]
    public async Task Typed_and_raw_grpc_calls_get_the_same_outputs_as_http_for_the_same_input()
    {
        var http = await HttpInferAsync(Json(Features));

        var typed = await Grpc.ModelInferAsync(TypedRequest(Features), Keyed);
        var raw = await Grpc.ModelInferAsync(RawRequest(Features), Keyed);

        foreach (var response in new[] { typed, raw })
        {
            Assert.Equal((http.Id, http.ModelName, http.ModelVersion), (response.Id, response.ModelName, response.ModelVersion));
            Assert.Equal(http.Outputs.Select(o => o.ToString()), response.Outputs.Select(o => $"{o.Name} {o.Datatype} [{string.Join(",", o.Shape)}]"));
        }
        var probabilities = http.FindOutput("probabilities")!.Span<float>().ToArray();
        var labels = http.FindOutput("label")!.Span<long>().ToArray();
        Assert.Equal(probabilities, typed.Outputs.Single(o => o.Name == "probabilities").Contents.Fp32Contents);
        Assert.Equal(labels, typed.Outputs.Single(o => o.Name == "label").Contents.Int64Contents);
        var rawOutputs = raw.Outputs.Select(o => o.Name).Zip(raw.RawOutputContents).ToDictionary(p => p.First, p => p.Second.ToByteArray());
        Assert.Equal(probabilities, Floats(rawOutputs["probabilities"]));
        Assert.Equal(labels, Longs(rawOutputs["label"]));
    }

    public static TheoryData<string, string, string> Errors => new()
    {
        // what, the HTTP body, the gRPC request (as the same JSON, turned into typed contents below)
        { "unknown model", "nope", Json(Features) },
        { "shape", Model, """{"id":"e1","inputs":[{"name":"features","datatype":"FP32","shape":[1,29],"data":[""" + string.Join(",", Enumerable.Repeat("0.5", 29)) + "]}]}" },
        { "count", Model, """{"id":"e1","inputs":[{"name":"features","datatype":"FP32","shape":[1,30],"data":[0.5]}]}""" },
        { "dtype", Model, """{"id":"e1","inputs":[{"name":"features","datatype":"INT64","shape":[1,30],"data":[""" + string.Join(",", Enumerable.Repeat("1", 30)) + "]}]}" },
        { "unsupported datatype", Model, """{"id":"e1","inputs":[{"name":"features","datatype":"UINT8","shape":[1,30],"data":[]}]}""" },
        { "no id", Model, """{"id":"","inputs":[{"name":"features","datatype":"FP32","shape":[1,30],"data":[""" + string.Join(",", Enumerable.Repeat("0.5", 30)) + "]}]}" },
        { "unknown input", Model, """{"id":"e1","inputs":[{"name":"feats","datatype":"FP32","shape":[1,30],"data":[""" + string.Join(",", Enumerable.Repeat("0.5", 30)) + "]}]}" },
    };

    [Theory]
    [MemberData(nameof(Errors))]
    public async Task Each_error_of_the_http_edge_has_its_grpc_status_and_the_same_code(string what, string model, string json)
    {
        using var http = await PostAsync(model, json);
        using var body = System.Text.Json.JsonDocument.Parse(await http.Content.ReadAsStringAsync());
        var httpCode = body.RootElement.GetProperty("code").GetString();

        var error = await Assert.ThrowsAsync<RpcException>(() => Grpc.ModelInferAsync(FromJson(model, json), Keyed).ResponseAsync);

        Assert.True(GrpcErrors.CodeFor((int)http.StatusCode) == error.StatusCode, $"{what}: HTTP {(int)http.StatusCode} {httpCode}, gRPC {error.StatusCode}");
        Assert.Equal(httpCode, error.Trailers.GetValue(GrpcErrors.CodeTrailer));
        Assert.Equal(body.RootElement.GetProperty("error").GetString(), error.Status.Detail);
    }

    [Fact]
    public async Task Non_finite_inputs_are_refused_on_both_edges_with_the_same_code()
    {
        var features = Features.ToArray();
        features[3] = float.NaN;

        var error = await Assert.ThrowsAsync<RpcException>(() => Grpc.ModelInferAsync(TypedRequest(features), Keyed).ResponseAsync);
        using var http = await PostAsync(Model, Json(Features).Replace(Features[3].ToString("R", System.Globalization.CultureInfo.InvariantCulture), "\"NaN\""));

        Assert.Equal(StatusCode.InvalidArgument, error.StatusCode);
        Assert.Equal("non_finite", error.Trailers.GetValue(GrpcErrors.CodeTrailer));
        Assert.Equal(HttpStatusCode.BadRequest, http.StatusCode);
    }

    [Fact]
    public async Task Without_the_key_calls_are_unauthenticated_and_health_answers_anyway()
    {
        var error = await Assert.ThrowsAsync<RpcException>(() => Grpc.ModelInferAsync(TypedRequest(Features)).ResponseAsync);

        Assert.Equal(StatusCode.Unauthenticated, error.StatusCode);
        Assert.Equal(HttpErrorCodes.KeyRequired, error.Trailers.GetValue(GrpcErrors.CodeTrailer));
        Assert.True((await Grpc.ServerLiveAsync(new ServerLiveRequest())).Live);
        Assert.True((await Grpc.ServerReadyAsync(new ServerReadyRequest())).Ready);
    }

    [Fact]
    public async Task Model_readiness_and_metadata_answer_what_the_http_edge_answers()
    {
        using var request = KeyedRequest(HttpMethod.Get, $"/v2/models/{Model}");
        using var response = await Node.Http.SendAsync(request);
        var http = await response.Content.ReadFromJsonAsync<Mlops.Stream.Http.ModelMetadataResponse>();

        var grpc = await Grpc.ModelMetadataAsync(new ModelMetadataRequest { Name = Model }, Keyed);

        Assert.True((await Grpc.ModelReadyAsync(new ModelReadyRequest { Name = Model }, Keyed)).Ready);
        Assert.True((await Grpc.ModelReadyAsync(new ModelReadyRequest { Name = Model, Version = "1" }, Keyed)).Ready);
        Assert.Equal((http!.Name, http.Platform), (grpc.Name, grpc.Platform));
        Assert.Equal(http.Versions, grpc.Versions);
        Assert.Equal(http.Inputs.Select(t => $"{t.Name} {t.DataType} [{string.Join(",", t.Shape)}]"), grpc.Inputs.Select(t => $"{t.Name} {t.Datatype} [{string.Join(",", t.Shape)}]"));
        Assert.Equal(http.Outputs.Select(t => $"{t.Name} {t.DataType} [{string.Join(",", t.Shape)}]"), grpc.Outputs.Select(t => $"{t.Name} {t.Datatype} [{string.Join(",", t.Shape)}]"));
    }

    [Fact]
    public async Task Grpc_calls_are_counted_in_the_request_metric_with_source_grpc()
    {
        await Grpc.ModelInferAsync(TypedRequest(Features), Keyed);

        var metrics = new PrometheusText(await Node.Http.GetStringAsync("/metrics"));

        Assert.True(metrics.Sum("mlops_requests_total", ("model", Model), ("version", "1"), ("source", "grpc"), ("outcome", "success")) >= 1, metrics.Text);
    }

    private async Task<InferenceResponse> HttpInferAsync(string json)
    {
        using var response = await PostAsync(Model, json);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return InferenceCodec.DecodeResponse(await response.Content.ReadAsByteArrayAsync());
    }

    private async Task<HttpResponseMessage> PostAsync(string model, string json)
    {
        using var request = KeyedRequest(HttpMethod.Post, $"/v2/models/{model}/infer");
        request.Content = new StringContent(json, Encoding.UTF8, "application/json");
        return await Node.Http.SendAsync(request);
    }

    private static HttpRequestMessage KeyedRequest(HttpMethod method, string path) =>
        new(method, path) { Headers = { Authorization = new AuthenticationHeaderValue("Bearer", InferKey) } };

    private static string Json(float[] features) =>
        $$"""{"id":"tx-1","inputs":[{"name":"features","datatype":"FP32","shape":[2,30],"data":[{{string.Join(",", features.Select(f => f.ToString("R", System.Globalization.CultureInfo.InvariantCulture)))}}]}]}""";

    private static ModelInferRequest TypedRequest(float[] features)
    {
        var request = new ModelInferRequest { ModelName = Model, Id = "tx-1" };
        var input = new ModelInferRequest.Types.InferInputTensor { Name = "features", Datatype = "FP32", Shape = { 2, 30 } };
        input.Contents = new InferTensorContents { Fp32Contents = { features } };
        request.Inputs.Add(input);
        return request;
    }

    private static ModelInferRequest RawRequest(float[] features)
    {
        var request = new ModelInferRequest { ModelName = Model, Id = "tx-1" };
        request.Inputs.Add(new ModelInferRequest.Types.InferInputTensor { Name = "features", Datatype = "FP32", Shape = { 2, 30 } });
        var bytes = new byte[features.Length * 4];
        for (var i = 0; i < features.Length; i++) BinaryPrimitives.WriteSingleLittleEndian(bytes.AsSpan(i * 4), features[i]);
        request.RawInputContents.Add(ByteString.CopyFrom(bytes));
        return request;
    }

    /// <summary>The gRPC form of a v2 JSON request: its tensors with typed contents.</summary>
    private static ModelInferRequest FromJson(string model, string json)
    {
        using var document = System.Text.Json.JsonDocument.Parse(json);
        var root = document.RootElement;
        var request = new ModelInferRequest { ModelName = model, Id = root.GetProperty("id").GetString() };
        foreach (var tensor in root.GetProperty("inputs").EnumerateArray())
        {
            var datatype = tensor.GetProperty("datatype").GetString()!;
            var input = new ModelInferRequest.Types.InferInputTensor { Name = tensor.GetProperty("name").GetString(), Datatype = datatype, Contents = new() };
            input.Shape.Add(tensor.GetProperty("shape").EnumerateArray().Select(d => d.GetInt64()));
            var data = tensor.GetProperty("data").EnumerateArray();
            switch (datatype)
            {
                case "FP32": input.Contents.Fp32Contents.Add(data.Select(d => d.GetSingle())); break;
                case "INT64": input.Contents.Int64Contents.Add(data.Select(d => d.GetInt64())); break;
            }
            request.Inputs.Add(input);
        }
        return request;
    }

    private static float[] Floats(byte[] raw) => [.. Enumerable.Range(0, raw.Length / 4).Select(i => BinaryPrimitives.ReadSingleLittleEndian(raw.AsSpan(i * 4)))];

    private static long[] Longs(byte[] raw) => [.. Enumerable.Range(0, raw.Length / 8).Select(i => BinaryPrimitives.ReadInt64LittleEndian(raw.AsSpan(i * 8)))];
}
