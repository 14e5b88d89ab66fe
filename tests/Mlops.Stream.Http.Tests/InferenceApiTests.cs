using System.Net;
using System.Text;
using Mlops.Stream.Http.Tests.Support;
using Mlops.Stream.Inference.Batching;
using Mlops.Stream.Inference.Gateway;
using Mlops.Stream.Inference.Wire;

namespace Mlops.Stream.Http.Tests;

/// <summary>POST /v2/models/{model}[/versions/{version}]/infer against a gateway whose replies the test sets.</summary>
public sealed class InferenceApiTests : IAsyncLifetime
{
    private const int BodyLimit = 1024;

    // Short, so the never-answering gateway test ends quickly; the other fakes answer synchronously.
    private static readonly TimeSpan InferTimeout = TimeSpan.FromMilliseconds(300);

    private TestApp _app = null!;

    private FakeInferenceGateway Gateway => _app.Gateway;

    private HttpClient Http => _app.Http;

    public async Task InitializeAsync() =>
        _app = await TestApp.StartAsync(o =>
        {
            o.MaxRequestBodyBytes = BodyLimit;
            o.InferTimeout = InferTimeout;
        });

    public async Task DisposeAsync() => await _app.DisposeAsync();

    [Fact]
    public async Task Served_reply_is_200_json_with_the_gateways_bytes_untouched_and_the_raw_body_reaches_the_gateway()
    {
        // Odd spacing and key order: the edge must pass bytes through, not re-serialize.
        var served = Encoding.UTF8.GetBytes("""{ "model_name":"fraud","id":"r1",  "model_version":"2","outputs":[]}""");
        Gateway.Reply(new InferReply.Served(served, 2));
        var request = Encoding.UTF8.GetBytes(V2.Request);

        using var response = await Http.PostAsync("/v2/models/fraud/infer", V2.Json(request));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal(served, await response.Content.ReadAsByteArrayAsync());
        var call = Assert.Single(Gateway.Calls);
        Assert.Equal("fraud", call.Model);
        Assert.Null(call.Version);
        Assert.Equal(request, call.Body);
    }

    [Fact]
    public async Task Versioned_infer_passes_the_version_to_the_gateway()
    {
        Gateway.Reply(new InferReply.Served("{}"u8.ToArray(), 3));

        using var response = await Http.PostAsync("/v2/models/fraud/versions/3/infer", V2.Json(V2.Request));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var call = Assert.Single(Gateway.Calls);
        Assert.Equal(("fraud", (int?)3), (call.Model, call.Version));
    }

    [Theory]
    [InlineData("one")]
    [InlineData("-1")]
    [InlineData("1.5")]
    [InlineData("99999999999")]
    public async Task A_version_that_is_not_an_integer_is_400_and_never_reaches_the_gateway(string version)
    {
        using var response = await Http.PostAsync($"/v2/models/fraud/versions/{version}/infer", V2.Json(V2.Request));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var error = await V2.ReadErrorAsync(response);
        Assert.Equal(HttpErrorCodes.InvalidVersion, error.Code);
        Assert.Contains(version, error.Error);
        Assert.Empty(Gateway.Calls);
    }

    [Fact]
    public async Task Invalid_reply_is_400_with_the_message_and_wire_code_the_serving_codec_reads_back()
    {
        Gateway.Reply(new InferReply.Invalid(new InferenceError(InferenceErrorCode.ShapeMismatch, "input 'features': expected [-1,30], found [1,2]")));

        using var response = await Http.PostAsync("/v2/models/fraud/infer", V2.Json(V2.Request));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        var decoded = InferenceCodec.DecodeError(await response.Content.ReadAsByteArrayAsync());
        Assert.Equal(InferenceErrorCode.ShapeMismatch, decoded.Code);
        Assert.Equal("input 'features': expected [-1,30], found [1,2]", decoded.Message);
    }

    [Fact]
    public async Task NotFound_reply_is_404()
    {
        Gateway.Reply(new InferReply.NotFound("model 'nope' is not in the registry"));

        using var response = await Http.PostAsync("/v2/models/nope/infer", V2.Json(V2.Request));

        await AssertErrorAsync(response, HttpStatusCode.NotFound, HttpErrorCodes.ModelNotFound, "model 'nope' is not in the registry");
    }

    [Fact]
    public async Task NotReady_reply_is_503()
    {
        Gateway.Reply(new InferReply.NotReady("model 'fraud' is loading version 2"));

        using var response = await Http.PostAsync("/v2/models/fraud/infer", V2.Json(V2.Request));

        await AssertErrorAsync(response, HttpStatusCode.ServiceUnavailable, HttpErrorCodes.ModelNotReady, "model 'fraud' is loading version 2");
    }

    [Fact]
    public async Task Queue_full_is_429_with_retry_after_one_second()
    {
        Gateway.Reply(new InferReply.Rejected(new BatchRejection(BatchRejectionReason.QueueFull, "queue holds 64 requests")));

        using var response = await Http.PostAsync("/v2/models/fraud/infer", V2.Json(V2.Request));

        await AssertErrorAsync(response, HttpStatusCode.TooManyRequests, "queue_full", "queue holds 64 requests");
        Assert.Equal(TimeSpan.FromSeconds(1), response.Headers.RetryAfter?.Delta);
    }

    [Fact]
    public async Task Shutting_down_is_503_without_retry_after()
    {
        Gateway.Reply(new InferReply.Rejected(new BatchRejection(BatchRejectionReason.ShuttingDown, "batcher stopped")));

        using var response = await Http.PostAsync("/v2/models/fraud/infer", V2.Json(V2.Request));

        await AssertErrorAsync(response, HttpStatusCode.ServiceUnavailable, "shutting_down", "batcher stopped");
        Assert.Null(response.Headers.RetryAfter);
    }

    [Fact]
    public async Task Model_failed_is_500()
    {
        Gateway.Reply(new InferReply.Rejected(new BatchRejection(BatchRejectionReason.ModelFailed, "onnxruntime threw")
        {
            Cause = new InvalidOperationException("boom"),
        }));

        using var response = await Http.PostAsync("/v2/models/fraud/infer", V2.Json(V2.Request));

        await AssertErrorAsync(response, HttpStatusCode.InternalServerError, "model_failed", "onnxruntime threw");
    }

    [Fact]
    public async Task TimedOut_reply_is_504()
    {
        Gateway.Reply(new InferReply.TimedOut("no answer from replica fraud#0"));

        using var response = await Http.PostAsync("/v2/models/fraud/infer", V2.Json(V2.Request));

        await AssertErrorAsync(response, HttpStatusCode.GatewayTimeout, HttpErrorCodes.TimedOut, "no answer from replica fraud#0");
    }

    [Fact]
    public async Task A_gateway_that_never_answers_gets_504_after_the_infer_timeout_and_its_token_is_cancelled()
    {
        // Ignores its token on purpose: the edge must answer the caller even then.
        var never = new TaskCompletionSource<InferReply>(TaskCreationOptions.RunContinuationsAsynchronously);
        Gateway.OnInfer = _ => never.Task;

        using var response = await Http.PostAsync("/v2/models/fraud/infer", V2.Json(V2.Request));

        await AssertErrorAsync(response, HttpStatusCode.GatewayTimeout, HttpErrorCodes.TimedOut, null);
        Assert.True(Assert.Single(Gateway.Calls).CancellationToken.IsCancellationRequested);
    }

    [Fact]
    public async Task A_gateway_that_throws_is_500_with_a_v2_error_body()
    {
        Gateway.OnInfer = _ => Task.FromException<InferReply>(new InvalidOperationException("secret internals"));

        using var response = await Http.PostAsync("/v2/models/fraud/infer", V2.Json(V2.Request));

        await AssertErrorAsync(response, HttpStatusCode.InternalServerError, HttpErrorCodes.Internal, null);
        Assert.DoesNotContain("secret internals", await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task A_body_over_the_limit_is_413_and_never_reaches_the_gateway()
    {
        using var response = await Http.PostAsync("/v2/models/fraud/infer", V2.Json(new byte[BodyLimit + 1]));

        await AssertErrorAsync(response, HttpStatusCode.RequestEntityTooLarge, HttpErrorCodes.BodyTooLarge, null);
        Assert.Empty(Gateway.Calls);
    }

    [Fact]
    public async Task A_chunked_body_over_the_limit_is_413_and_never_reaches_the_gateway()
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/v2/models/fraud/infer") { Content = V2.Json(new byte[4 * BodyLimit]) };
        request.Headers.TransferEncodingChunked = true;

        using var response = await Http.SendAsync(request);

        await AssertErrorAsync(response, HttpStatusCode.RequestEntityTooLarge, HttpErrorCodes.BodyTooLarge, null);
        Assert.Empty(Gateway.Calls);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task A_body_of_exactly_the_limit_is_passed_whole(bool chunked)
    {
        Gateway.Reply(new InferReply.Served("{}"u8.ToArray(), 1));
        var body = Enumerable.Range(0, BodyLimit).Select(i => (byte)i).ToArray();
        using var request = new HttpRequestMessage(HttpMethod.Post, "/v2/models/fraud/infer") { Content = V2.Json(body) };
        request.Headers.TransferEncodingChunked = chunked;

        using var response = await Http.SendAsync(request);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(body, Assert.Single(Gateway.Calls).Body);
    }

    private static async Task AssertErrorAsync(HttpResponseMessage response, HttpStatusCode status, string code, string? message)
    {
        Assert.Equal(status, response.StatusCode);
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        var error = await V2.ReadErrorAsync(response);
        Assert.Equal(code, error.Code);
        Assert.False(string.IsNullOrWhiteSpace(error.Error));
        if (message is not null)
        {
            Assert.Equal(message, error.Error);
        }
        Assert.Equal(["error", "code"], error.Properties);
    }
}
