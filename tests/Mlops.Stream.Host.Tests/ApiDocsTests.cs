using System.Net;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Mlops.Stream.Host.Tests.Infrastructure;

namespace Mlops.Stream.Host.Tests;

/// <summary>
/// The OpenAPI document at /openapi/v1.json describes every route a node maps, with a summary and its
/// error answers, and the /docs page opens without a key and without the internet. One node with
/// keys configured, so "open" is shown, not assumed.
/// </summary>
public sealed class ApiDocsTests : IAsyncLifetime
{
    private const string AdminKey = "docs-admin-key-5e4d3c2b1a09";
    private const string InferKey = "docs-infer-key-90a1b2c3d4e5";

    private TestNode _node = null!;

    public async Task InitializeAsync()
    {
        _node = await TestNode.StartAsync($"--Security:AdminKeys:0={AdminKey}", $"--Security:InferKeys:0={InferKey}");
        // The model serves before the tests start, so an infer error is the request's, not readiness's.
        _node.Http.DefaultRequestHeaders.Authorization = new("Bearer", InferKey);
        await _node.WaitForOkAsync("/v2/models/fraud-demo/ready");
        _node.Http.DefaultRequestHeaders.Authorization = null;
    }

    public async Task DisposeAsync() => await _node.DisposeAsync();

    [Fact]
    public async Task Every_mapped_route_is_in_the_document_with_a_summary_and_its_answers()
    {
        using var document = await DocumentAsync();
        var paths = document.RootElement.GetProperty("paths");

        var routes = MappedRoutes();
        Assert.Contains(("POST", "/v2/models/{model}/infer"), routes);
        Assert.Contains(("GET", "/api/v1/models/{model}/drift"), routes);
        foreach (var (method, pattern) in routes)
        {
            Assert.True(paths.TryGetProperty(pattern, out var path), $"{method} {pattern} is mapped but not in the document");
            Assert.True(path.TryGetProperty(method.ToLowerInvariant(), out var operation), $"{method} {pattern}: the document has the path but not the method");
            Assert.True(operation.TryGetProperty("summary", out var summary) && summary.GetString() is { Length: > 0 }, $"{method} {pattern} has no summary");
            var responses = operation.GetProperty("responses");
            Assert.True(responses.EnumerateObject().Any(r => r.Name.StartsWith('2')), $"{method} {pattern} documents no success answer");
            if (!IsOpen(pattern))
            {
                Assert.True(responses.TryGetProperty("401", out _), $"{method} {pattern} needs a key but does not document 401");
                Assert.True(responses.TryGetProperty("403", out _), $"{method} {pattern} needs a role but does not document 403");
                Assert.True(operation.TryGetProperty("security", out _), $"{method} {pattern} needs a key but names no security scheme");
            }
        }
    }

    [Fact]
    public async Task The_infer_route_documents_its_request_and_response_bodies_and_every_refusal()
    {
        using var document = await DocumentAsync();
        var infer = document.RootElement.GetProperty("paths").GetProperty("/v2/models/{model}/infer").GetProperty("post");

        var schemas = document.RootElement.GetProperty("components").GetProperty("schemas");
        var requestSchema = Resolve(schemas, infer.GetProperty("requestBody").GetProperty("content").GetProperty("application/json").GetProperty("schema"));
        Assert.True(requestSchema.GetProperty("properties").TryGetProperty("inputs", out _), requestSchema.ToString());
        var responseSchema = Resolve(schemas, infer.GetProperty("responses").GetProperty("200").GetProperty("content").GetProperty("application/json").GetProperty("schema"));
        Assert.True(responseSchema.GetProperty("properties").TryGetProperty("outputs", out _), responseSchema.ToString());
        Assert.True(schemas.GetProperty("ErrorResponse").GetProperty("properties").TryGetProperty("code", out _));

        var statuses = infer.GetProperty("responses").EnumerateObject().Select(r => r.Name).ToHashSet();
        foreach (var status in new[] { "200", "400", "401", "403", "404", "408", "413", "415", "429", "500", "503", "504" })
        {
            Assert.Contains(status, statuses);
        }
    }

    /// <summary>Errors the node really answers are the ones the document promises for that route.</summary>
    [Theory]
    [InlineData("GET", "/v2/models/no-such-model", "/v2/models/{model}", null, HttpStatusCode.NotFound)]
    [InlineData("GET", "/v2/models/fraud-demo/versions/x", "/v2/models/{model}/versions/{version}", null, HttpStatusCode.BadRequest)]
    [InlineData("POST", "/v2/models/fraud-demo/infer", "/v2/models/{model}/infer", "text/plain", HttpStatusCode.UnsupportedMediaType)]
    [InlineData("POST", "/v2/models/fraud-demo/infer", "/v2/models/{model}/infer", "application/json", HttpStatusCode.BadRequest)]
    [InlineData("GET", "/api/v1/models/no-such-model/scale", "/api/v1/models/{model}/scale", null, HttpStatusCode.NotFound)]
    [InlineData("POST", "/api/v1/models/no-such-model/rollback", "/api/v1/models/{model}/rollback", null, HttpStatusCode.NotFound)]
    [InlineData("GET", "/api/v1/models/fraud-demo/drift?windows=0", "/api/v1/models/{model}/drift", null, HttpStatusCode.BadRequest)]
    [InlineData("GET", "/api/v1/models/fraud-demo/drift/report?format=pdf", "/api/v1/models/{model}/drift/report", null, HttpStatusCode.BadRequest)]
    [InlineData("GET", "/api/v1/models/fraud-demo/tail/nothing", "/api/v1/models/{model}/tail/{stream}", null, HttpStatusCode.BadRequest)]
    [InlineData("POST", "/api/v1/cluster/leave", "/api/v1/cluster/leave", "application/json", HttpStatusCode.BadRequest)]
    public async Task An_error_the_node_answers_is_documented_for_its_route(string method, string url, string pattern, string? contentType, HttpStatusCode expected)
    {
        using var request = new HttpRequestMessage(new HttpMethod(method), url);
        request.Headers.Authorization = new("Bearer", AdminKey);
        if (contentType is not null) request.Content = new StringContent("{}", Encoding.UTF8, contentType);
        using var answer = await _node.Http.SendAsync(request);
        Assert.Equal(expected, answer.StatusCode);

        using var document = await DocumentAsync();
        var responses = document.RootElement.GetProperty("paths").GetProperty(pattern).GetProperty(method.ToLowerInvariant()).GetProperty("responses");
        Assert.True(responses.TryGetProperty(((int)expected).ToString(), out var documented), $"{method} {pattern} answered {(int)expected}, which its documentation does not list");
        Assert.Equal("#/components/schemas/ErrorResponse",
            documented.GetProperty("content").GetProperty("application/json").GetProperty("schema").GetProperty("$ref").GetString());
    }

    [Fact]
    public async Task The_docs_page_opens_without_a_key_and_loads_nothing_from_elsewhere()
    {
        using var page = await _node.Http.GetAsync("/docs/index.html");
        Assert.Equal(HttpStatusCode.OK, page.StatusCode);
        var html = await page.Content.ReadAsStringAsync();
        Assert.Contains("swagger-ui", html);
        Assert.DoesNotContain("src=\"http", html);
        Assert.DoesNotContain("href=\"http", html);

        using var script = await _node.Http.GetAsync("/docs/swagger-ui-bundle.js");
        Assert.Equal(HttpStatusCode.OK, script.StatusCode);

        // The page's configuration names the node's own document, and no online validator.
        using var initializer = await _node.Http.GetAsync("/docs/index.js");
        var configuration = await initializer.Content.ReadAsStringAsync();
        Assert.Contains("/openapi/v1.json", configuration);
        Assert.DoesNotContain("validator.swagger.io", configuration);
    }

    private async Task<JsonDocument> DocumentAsync()
    {
        // No key: the document is open even on a node with keys.
        using var answer = await _node.Http.GetAsync("/openapi/v1.json");
        Assert.Equal(HttpStatusCode.OK, answer.StatusCode);
        return JsonDocument.Parse(await answer.Content.ReadAsStringAsync());
    }

    /// <summary>The schema itself, or the component a <c>$ref</c> names.</summary>
    private static JsonElement Resolve(JsonElement components, JsonElement schema) =>
        schema.TryGetProperty("$ref", out var reference)
            ? components.GetProperty(reference.GetString()!.Replace("#/components/schemas/", "", StringComparison.Ordinal))
            : schema;

    /// <summary>Every (method, route pattern) the node's endpoint routing knows, except the document's own route.</summary>
    private List<(string Method, string Pattern)> MappedRoutes() =>
    [
        .. _node.App.Services.GetRequiredService<EndpointDataSource>().Endpoints
            .OfType<RouteEndpoint>()
            .Where(e => e.RoutePattern.RawText != "/openapi/{documentName}.json")
            .SelectMany(e => (e.Metadata.GetMetadata<HttpMethodMetadata>()?.HttpMethods ?? ["GET"])
                .Select(method => (method, Normalise(e.RoutePattern.RawText!))))
            .Distinct(),
    ];

    /// <summary>Group prefixes and empty suffixes give patterns like <c>/v2/</c>; the document writes <c>/v2</c>.</summary>
    private static string Normalise(string pattern)
    {
        var trimmed = "/" + pattern.Trim('/');
        return trimmed.Replace("//", "/", StringComparison.Ordinal);
    }

    private static bool IsOpen(string pattern) => Mlops.Stream.Http.Security.AccessPolicy.For(new PathString(pattern)) == Mlops.Stream.Http.Security.RouteAccess.Open;
}
