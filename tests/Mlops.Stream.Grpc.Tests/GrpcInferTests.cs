using System.Text;
using Grpc.Core;
using Mlops.Stream.Grpc.Protocol;
using Mlops.Stream.Grpc.Tests.Support;
using Mlops.Stream.Http;
using Mlops.Stream.Http.Tests.Support;
using Mlops.Stream.Inference.Batching;
using Mlops.Stream.Inference.Gateway;
using Mlops.Stream.Inference.Wire;

namespace Mlops.Stream.Grpc.Tests;

/// <summary>ModelInfer against a gateway whose replies the test sets: what reaches the gateway, what comes back, how each reply maps.</summary>
public sealed class GrpcInferTests : IAsyncLifetime
{
    private const int MessageLimit = 4096;

    // Short, so the never-answering gateway test ends quickly; the other fakes answer at once.
    private static readonly TimeSpan InferTimeout = TimeSpan.FromMilliseconds(300);

    private static readonly byte[] ServedJson = Encoding.UTF8.GetBytes(
        """{"id":"r1","model_name":"fraud","model_version":"2","outputs":[{"name":"probabilities","datatype":"FP32","shape":[1,2],"data":[0.25,0.75]},{"name":"label","datatype":"INT64","shape":[1],"data":[1]}]}""");

    private GrpcTestApp _app = null!;

    private FakeInferenceGateway Gateway => _app.Gateway;

    private GRPCInferenceService.GRPCInferenceServiceClient Client => _app.Client;

    public async Task InitializeAsync() =>
        _app = await GrpcTestApp.StartAsync(o =>
        {
            o.InferTimeout = InferTimeout;
            o.MaxRequestBodyBytes = MessageLimit;
        });

    public async Task DisposeAsync() => await _app.DisposeAsync();

    [Fact]
    public async Task A_typed_request_reaches_the_gateway_as_the_v2_body_an_http_caller_posts_and_the_outputs_come_back_typed()
    {
        Gateway.Reply(new InferReply.Served(ServedJson, 2));

        var response = await Client.ModelInferAsync(OipRequests.Typed());

        var call = Assert.Single(Gateway.Calls);
        Assert.Equal(("fraud", (int?)null), (call.Model, call.Version));
        AssertSameRequest(InferenceCodec.DecodeRequest(Encoding.UTF8.GetBytes(V2.Request)), InferenceCodec.DecodeRequest(call.Body));
        Assert.Equal(("r1", "fraud", "2"), (response.Id, response.ModelName, response.ModelVersion));
        Assert.Empty(response.RawOutputContents);
        Assert.Equal(["probabilities", "label"], response.Outputs.Select(o => o.Name));
        Assert.Equal(["FP32", "INT64"], response.Outputs.Select(o => o.Datatype));
        Assert.Equal([1L, 2L], response.Outputs[0].Shape);
        Assert.Equal([0.25f, 0.75f], response.Outputs[0].Contents.Fp32Contents);
        Assert.Equal([1L], response.Outputs[1].Contents.Int64Contents);
    }

    [Fact]
    public async Task A_raw_request_reaches_the_gateway_as_the_same_body_and_the_outputs_come_back_raw_little_endian()
    {
        Gateway.Reply(new InferReply.Served(ServedJson, 2));

        var response = await Client.ModelInferAsync(OipRequests.Raw());

        AssertSameRequest(InferenceCodec.DecodeRequest(Encoding.UTF8.GetBytes(V2.Request)), InferenceCodec.DecodeRequest(Assert.Single(Gateway.Calls).Body));
        Assert.All(response.Outputs, o => Assert.Null(o.Contents));
        Assert.Equal(2, response.RawOutputContents.Count);
        Assert.Equal([.. BitConverter.GetBytes(0.25f), .. BitConverter.GetBytes(0.75f)], response.RawOutputContents[0].ToByteArray());
        Assert.Equal(BitConverter.GetBytes(1L), response.RawOutputContents[1].ToByteArray());
    }

    [Fact]
    public async Task Every_supported_datatype_reaches_the_gateway_with_its_exact_values_typed_or_raw()
    {
        Gateway.Reply(new InferReply.Served(ServedJson, 2));
        float[] floats = [0.1f, -3.4028235e38f, 1.17549435e-38f];
        double[] doubles = [0.1, double.MaxValue];
        long[] longs = [long.MinValue, 42];
        int[] ints = [int.MaxValue, -7];
        bool[] flags = [true, false];

        var typed = OipRequests.Request("fraud", "",
            WithContents(OipRequests.Input("f", "FP32", 3), c => c.Fp32Contents.Add(floats)),
            WithContents(OipRequests.Input("d", "FP64", 2), c => c.Fp64Contents.Add(doubles)),
            WithContents(OipRequests.Input("l", "INT64", 2), c => c.Int64Contents.Add(longs)),
            WithContents(OipRequests.Input("i", "INT32", 2), c => c.IntContents.Add(ints)),
            WithContents(OipRequests.Input("b", "BOOL", 2), c => c.BoolContents.Add(flags)));
        var raw = OipRequests.Request("fraud", "",
            OipRequests.Input("f", "FP32", 3), OipRequests.Input("d", "FP64", 2), OipRequests.Input("l", "INT64", 2),
            OipRequests.Input("i", "INT32", 2), OipRequests.Input("b", "BOOL", 2));
        raw.RawInputContents.Add(OipRequests.Bytes([.. floats.Select(BitConverter.GetBytes)]));
        raw.RawInputContents.Add(OipRequests.Bytes([.. doubles.Select(BitConverter.GetBytes)]));
        raw.RawInputContents.Add(OipRequests.Bytes([.. longs.Select(BitConverter.GetBytes)]));
        raw.RawInputContents.Add(OipRequests.Bytes([.. ints.Select(BitConverter.GetBytes)]));
        raw.RawInputContents.Add(OipRequests.Bytes([1], [0]));

        await Client.ModelInferAsync(typed);
        await Client.ModelInferAsync(raw);

        foreach (var call in Gateway.Calls)
        {
            var request = InferenceCodec.DecodeRequest(call.Body);
            Assert.Equal(floats, request.FindInput("f")!.Span<float>().ToArray());
            Assert.Equal(doubles, request.FindInput("d")!.Span<double>().ToArray());
            Assert.Equal(longs, request.FindInput("l")!.Span<long>().ToArray());
            Assert.Equal(ints, request.FindInput("i")!.Span<int>().ToArray());
            Assert.Equal(flags, request.FindInput("b")!.Span<bool>().ToArray());
        }
        Assert.Equal(2, Gateway.Calls.Count);
    }

    [Fact]
    public async Task Requested_outputs_parameters_and_the_version_reach_the_gateway()
    {
        Gateway.Reply(new InferReply.Served(ServedJson, 3));
        var request = OipRequests.Typed(version: "3");
        request.Outputs.Add(new ModelInferRequest.Types.InferRequestedOutputTensor { Name = "label" });
        request.Parameters["priority"] = new InferParameter { Int64Param = 2 };
        request.Parameters["tag"] = new InferParameter { StringParam = "ab" };
        request.Parameters["trace"] = new InferParameter { BoolParam = true };

        await Client.ModelInferAsync(request);

        var call = Assert.Single(Gateway.Calls);
        Assert.Equal(3, call.Version);
        var decoded = InferenceCodec.DecodeRequest(call.Body);
        Assert.Equal(["label"], decoded.RequestedOutputs);
        Assert.Equal(2, decoded.Parameters!["priority"].GetInt64());
        Assert.Equal("ab", decoded.Parameters["tag"].GetString());
        Assert.True(decoded.Parameters["trace"].GetBoolean());
    }

    public static TheoryData<string, InferReply, StatusCode, string> Replies => new()
    {
        { "invalid", new InferReply.Invalid(new InferenceError(InferenceErrorCode.ShapeMismatch, "input 'features': expected [-1,30], found [1,2]")), StatusCode.InvalidArgument, "shape_mismatch" },
        { "not found", new InferReply.NotFound("model 'fraud' is not in the registry"), StatusCode.NotFound, HttpErrorCodes.ModelNotFound },
        { "not ready", new InferReply.NotReady("model 'fraud' is loading version 2"), StatusCode.Unavailable, HttpErrorCodes.ModelNotReady },
        { "queue full", new InferReply.Rejected(new BatchRejection(BatchRejectionReason.QueueFull, "queue holds 64 requests")), StatusCode.ResourceExhausted, "queue_full" },
        { "shutting down", new InferReply.Rejected(new BatchRejection(BatchRejectionReason.ShuttingDown, "batcher stopped")), StatusCode.Unavailable, "shutting_down" },
        { "model failed", new InferReply.Rejected(new BatchRejection(BatchRejectionReason.ModelFailed, "onnxruntime threw")), StatusCode.Internal, "model_failed" },
        { "timed out", new InferReply.TimedOut("no answer from replica fraud#0"), StatusCode.DeadlineExceeded, HttpErrorCodes.TimedOut },
    };

    [Theory]
    [MemberData(nameof(Replies))]
    public async Task Each_reply_has_the_status_of_its_http_error_with_the_message_and_the_http_code_in_the_trailers(
        string reply, InferReply answer, StatusCode status, string code)
    {
        Gateway.Reply(answer);

        var error = await Assert.ThrowsAsync<RpcException>(() => Client.ModelInferAsync(OipRequests.Typed()).ResponseAsync);

        Assert.Equal(status, error.StatusCode);
        Assert.Equal(code, error.Trailers.GetValue(GrpcErrors.CodeTrailer));
        Assert.Contains(answer switch
        {
            InferReply.Invalid i => i.Error.Message,
            InferReply.NotFound n => n.Message,
            InferReply.NotReady n => n.Message,
            InferReply.Rejected r => r.Rejection.Message,
            InferReply.TimedOut t => t.Message,
            _ => throw new InvalidOperationException(reply),
        }, error.Status.Detail);
        // Queue full asks for the HTTP edge's polite first back-off; nothing else does.
        Assert.Equal(status == StatusCode.ResourceExhausted ? "1" : null, error.Trailers.GetValue(GrpcErrors.RetryAfterTrailer));
    }

    [Fact]
    public async Task A_gateway_that_never_answers_is_deadline_exceeded_after_the_infer_timeout_and_its_token_is_cancelled()
    {
        // Ignores its token on purpose: the edge must answer the caller even then.
        var never = new TaskCompletionSource<InferReply>(TaskCreationOptions.RunContinuationsAsynchronously);
        Gateway.OnInfer = _ => never.Task;

        var error = await Assert.ThrowsAsync<RpcException>(() => Client.ModelInferAsync(OipRequests.Typed()).ResponseAsync);

        Assert.Equal(StatusCode.DeadlineExceeded, error.StatusCode);
        Assert.Equal(HttpErrorCodes.TimedOut, error.Trailers.GetValue(GrpcErrors.CodeTrailer));
        Assert.True(Assert.Single(Gateway.Calls).CancellationToken.IsCancellationRequested);
        Assert.Contains(_app.Counter.Counted, c => c is { Source: RequestSources.Grpc, Outcome: RequestOutcomes.TimedOut });
    }

    [Fact]
    public async Task A_call_whose_own_deadline_passes_is_deadline_exceeded_the_gateway_stops_waiting_and_it_counts_as_timed_out()
    {
        // An app of its own whose infer timeout is far away, so only the caller's deadline can end the call.
        await using var app = await GrpcTestApp.StartAsync(o => o.InferTimeout = TimeSpan.FromMinutes(5));
        var never = new TaskCompletionSource<InferReply>(TaskCreationOptions.RunContinuationsAsynchronously);
        var asked = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        app.Gateway.OnInfer = _ =>
        {
            asked.TrySetResult();
            return never.Task;
        };

        var error = await Assert.ThrowsAsync<RpcException>(() =>
            app.Client.ModelInferAsync(OipRequests.Typed(), GrpcTestApp.WithKey(null, DateTime.UtcNow.AddMilliseconds(300))).ResponseAsync);

        Assert.Equal(StatusCode.DeadlineExceeded, error.StatusCode);
        await asked.Task;
        await Eventually.HoldsAsync(() => Assert.Single(app.Gateway.Calls).CancellationToken.IsCancellationRequested, "the gateway's token is cancelled");
        await Eventually.HoldsAsync(() => app.Counter.Counted.Any(c => c is { Source: RequestSources.Grpc, Outcome: RequestOutcomes.TimedOut, Model: "" }),
            "the call is counted as timed out, without a model label", state: () => string.Join("; ", app.Counter.Counted));
    }

    [Fact]
    public async Task A_gateway_that_throws_is_internal_without_its_details()
    {
        Gateway.OnInfer = _ => Task.FromException<InferReply>(new InvalidOperationException("secret internals"));

        var error = await Assert.ThrowsAsync<RpcException>(() => Client.ModelInferAsync(OipRequests.Typed()).ResponseAsync);

        Assert.Equal(StatusCode.Internal, error.StatusCode);
        Assert.Equal(HttpErrorCodes.Internal, error.Trailers.GetValue(GrpcErrors.CodeTrailer));
        Assert.DoesNotContain("secret internals", error.Status.Detail);
    }

    [Theory]
    [InlineData("one")]
    [InlineData("-1")]
    [InlineData("1.5")]
    [InlineData("99999999999")]
    public async Task A_version_that_is_not_an_integer_is_invalid_argument_and_never_reaches_the_gateway(string version)
    {
        var error = await Assert.ThrowsAsync<RpcException>(() => Client.ModelInferAsync(OipRequests.Typed(version: version)).ResponseAsync);

        Assert.Equal(StatusCode.InvalidArgument, error.StatusCode);
        Assert.Equal(HttpErrorCodes.InvalidVersion, error.Trailers.GetValue(GrpcErrors.CodeTrailer));
        Assert.Contains(version, error.Status.Detail);
        Assert.Empty(Gateway.Calls);
    }

    public static TheoryData<string, ModelInferRequest, string, string> BadLayouts()
    {
        var tooFewRaw = OipRequests.Request("fraud", "", OipRequests.Input("a", "FP32", 1), OipRequests.Input("b", "FP32", 1));
        tooFewRaw.RawInputContents.Add(OipRequests.Bytes(BitConverter.GetBytes(1f)));
        var rawAndTyped = OipRequests.Raw();
        rawAndTyped.Inputs[0].Contents = new InferTensorContents { Fp32Contents = { 0.5f, 1.5f } };
        var ragged = OipRequests.Request("fraud", "", OipRequests.Input("features", "FP32", 1, 2));
        ragged.RawInputContents.Add(OipRequests.Bytes(new byte[7]));
        var wrongField = OipRequests.Request("fraud", "", WithContents(OipRequests.Input("features", "FP32", 1, 2), c => c.Int64Contents.Add([1L, 2L])));
        return new()
        {
            { "fewer raw entries than inputs", tooFewRaw, "invalid_request", "raw_input_contents has 1 entries for 2 inputs" },
            { "raw and typed contents", rawAndTyped, "invalid_request", "contents.fp32_contents while raw_input_contents is used" },
            { "raw bytes not whole elements", ragged, "shape_mismatch", "7 bytes, not a whole number of 4-byte FP32 elements" },
            { "elements in another type's field", wrongField, "dtype_mismatch", "FP32 but its elements are in contents.int64_contents" },
        };
    }

    [Theory]
    [MemberData(nameof(BadLayouts))]
    public async Task Contents_the_protocol_forbids_are_invalid_argument_and_never_reach_the_gateway(string layout, ModelInferRequest request, string code, string message)
    {
        var error = await Assert.ThrowsAsync<RpcException>(() => Client.ModelInferAsync(request).ResponseAsync);

        Assert.True(error.StatusCode == StatusCode.InvalidArgument, layout);
        Assert.Equal(code, error.Trailers.GetValue(GrpcErrors.CodeTrailer));
        Assert.Contains(message, error.Status.Detail);
        Assert.Empty(Gateway.Calls);
        Assert.Contains(_app.Counter.Counted, c => c is { Source: RequestSources.Grpc, Outcome: RequestOutcomes.Invalid, Model: "" });
    }

    [Fact]
    public async Task A_message_over_the_http_body_limit_is_resource_exhausted_and_never_reaches_the_gateway()
    {
        var request = OipRequests.Request("fraud", "", OipRequests.Input("features", "FP32", 2000));
        request.RawInputContents.Add(OipRequests.Bytes(new byte[MessageLimit * 2]));

        var error = await Assert.ThrowsAsync<RpcException>(() => Client.ModelInferAsync(request).ResponseAsync);

        Assert.Equal(StatusCode.ResourceExhausted, error.StatusCode);
        Assert.Empty(Gateway.Calls);
    }

    [Fact]
    public async Task Served_calls_are_counted_with_source_grpc_the_model_and_the_serving_version()
    {
        Gateway.Reply(new InferReply.Served(ServedJson, 2));
        await Client.ModelInferAsync(OipRequests.Typed());
        Gateway.Reply(new InferReply.NotFound("model 'nope' is not in the registry"));
        await Assert.ThrowsAsync<RpcException>(() => Client.ModelInferAsync(OipRequests.Typed("nope")).ResponseAsync);

        Assert.Equal(
            [new CountedRequest("fraud", 2, RequestSources.Grpc, RequestOutcomes.Success), new CountedRequest("", null, RequestSources.Grpc, RequestOutcomes.Invalid)],
            _app.Counter.Counted);
    }

    private static ModelInferRequest.Types.InferInputTensor WithContents(ModelInferRequest.Types.InferInputTensor input, Action<InferTensorContents> fill)
    {
        input.Contents = new InferTensorContents();
        fill(input.Contents);
        return input;
    }

    private static void AssertSameRequest(InferenceRequest expected, InferenceRequest actual)
    {
        Assert.Equal(expected.Id, actual.Id);
        Assert.Equal(expected.Inputs.Select(i => i.ToString()), actual.Inputs.Select(i => i.ToString()));
        for (var i = 0; i < expected.Inputs.Count; i++)
        {
            Assert.Equal(expected.Inputs[i].Span<float>().ToArray(), actual.Inputs[i].Span<float>().ToArray());
        }
    }
}
