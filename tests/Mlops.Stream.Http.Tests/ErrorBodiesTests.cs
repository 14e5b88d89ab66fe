using System.Net;
using System.Net.Http.Headers;
using System.Text;
using Mlops.Stream.Http.Tests.Support;
using Mlops.Stream.Inference.Gateway;

namespace Mlops.Stream.Http.Tests;

/// <summary>Every error a client can get from the application has the <c>{"error","code"}</c> body, routing's included.</summary>
public sealed class ErrorBodiesTests : IAsyncLifetime
{
    private TestApp _app = null!;

    public async Task InitializeAsync() => _app = await TestApp.StartAsync();

    public async Task DisposeAsync() => await _app.DisposeAsync();

    [Theory]
    [InlineData("/v2/no-such-route")]
    [InlineData("/api/v1/no-such-route")]
    public async Task A_path_no_route_matches_is_404_with_the_error_body(string path)
    {
        using var response = await _app.Http.GetAsync(path);

        await AssertErrorAsync(response, HttpStatusCode.NotFound, HttpErrorCodes.NotFound);
    }

    [Fact]
    public async Task A_method_the_route_does_not_take_is_405_with_the_error_body()
    {
        using var response = await _app.Http.GetAsync("/v2/models/fraud/infer");

        await AssertErrorAsync(response, HttpStatusCode.MethodNotAllowed, HttpErrorCodes.MethodNotAllowed);
        Assert.Contains("POST", response.Content.Headers.Allow);
    }

    [Theory]
    [InlineData("text/plain")]
    [InlineData("application/x-www-form-urlencoded")]
    [InlineData("multipart/form-data; boundary=x")]
    [InlineData(null)]
    public async Task An_infer_body_that_is_not_json_is_415_and_never_reaches_the_gateway(string? contentType)
    {
        // What a browser page may post to any origin without a CORS preflight.
        using var content = new ByteArrayContent(Encoding.UTF8.GetBytes(V2.Request));
        content.Headers.ContentType = contentType is null ? null : MediaTypeHeaderValue.Parse(contentType);

        using var response = await _app.Http.PostAsync("/v2/models/fraud/infer", content);

        await AssertErrorAsync(response, HttpStatusCode.UnsupportedMediaType, HttpErrorCodes.UnsupportedMediaType);
        Assert.Empty(_app.Gateway.Calls);
    }

    [Fact]
    public async Task Json_with_a_charset_is_accepted_on_infer()
    {
        _app.Gateway.Reply(new InferReply.Served("{}"u8.ToArray(), 1));

        using var response = await _app.Http.PostAsync("/v2/models/fraud/versions/1/infer", new StringContent(V2.Request, Encoding.UTF8, "application/json"));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    private static async Task AssertErrorAsync(HttpResponseMessage response, HttpStatusCode status, string code)
    {
        Assert.Equal(status, response.StatusCode);
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        var error = await V2.ReadErrorAsync(response);
        Assert.Equal(code, error.Code);
        Assert.False(string.IsNullOrWhiteSpace(error.Error));
        Assert.Equal(["error", "code"], error.Properties);
    }
}
