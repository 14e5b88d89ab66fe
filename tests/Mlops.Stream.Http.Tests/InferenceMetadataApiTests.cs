using System.Net;
using System.Text.Json;
using Mlops.Stream.Http.Tests.Support;
using Mlops.Stream.Inference.Gateway;

namespace Mlops.Stream.Http.Tests;

/// <summary>The v2 metadata, readiness and health endpoints over the gateway's model list.</summary>
public sealed class InferenceMetadataApiTests : IAsyncLifetime
{
    private TestApp _app = null!;

    private HttpClient Http => _app.Http;

    public async Task InitializeAsync()
    {
        _app = await TestApp.StartAsync();
        _app.Gateway.Models = Models.All;
    }

    public async Task DisposeAsync() => await _app.DisposeAsync();

    [Fact]
    public async Task Server_metadata_names_the_server_its_version_and_no_extensions()
    {
        using var document = JsonDocument.Parse(await Http.GetStringAsync("/v2"));
        var root = document.RootElement;

        Assert.Equal("mlops-stream", root.GetProperty("name").GetString());
        Assert.False(string.IsNullOrWhiteSpace(root.GetProperty("version").GetString()));
        Assert.Equal(0, root.GetProperty("extensions").GetArrayLength());
    }

    [Fact]
    public async Task Model_metadata_has_the_v2_shape_with_string_versions_and_the_signature()
    {
        using var response = await Http.GetAsync("/v2/models/fraud");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        using var document = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        var root = document.RootElement;
        Assert.Equal(["name", "versions", "platform", "inputs", "outputs"], root.EnumerateObject().Select(p => p.Name));
        Assert.Equal("fraud", root.GetProperty("name").GetString());
        Assert.Equal(["1", "2"], root.GetProperty("versions").EnumerateArray().Select(v => v.GetString()));
        Assert.Equal("onnxruntime_onnx", root.GetProperty("platform").GetString());
        var input = Assert.Single(root.GetProperty("inputs").EnumerateArray().ToList());
        Assert.Equal("features", input.GetProperty("name").GetString());
        Assert.Equal("FP32", input.GetProperty("datatype").GetString());
        Assert.Equal([-1L, 30L], input.GetProperty("shape").EnumerateArray().Select(d => d.GetInt64()));
        var outputs = root.GetProperty("outputs").EnumerateArray().ToList();
        Assert.Equal(["probabilities", "label"], outputs.Select(o => o.GetProperty("name").GetString()));
        Assert.Equal("INT64", outputs[1].GetProperty("datatype").GetString());
        Assert.Equal([-1L], outputs[1].GetProperty("shape").EnumerateArray().Select(d => d.GetInt64()));
    }

    [Fact]
    public async Task Model_metadata_without_a_known_signature_has_empty_inputs_and_outputs()
    {
        using var document = JsonDocument.Parse(await Http.GetStringAsync("/v2/models/churn"));

        Assert.Equal(0, document.RootElement.GetProperty("inputs").GetArrayLength());
        Assert.Equal(0, document.RootElement.GetProperty("outputs").GetArrayLength());
    }

    [Fact]
    public async Task Versioned_model_metadata_answers_for_a_registered_version()
    {
        using var response = await Http.GetAsync("/v2/models/fraud/versions/1");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        using var document = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.Equal("fraud", document.RootElement.GetProperty("name").GetString());
    }

    [Theory]
    [InlineData("/v2/models/nope")]
    [InlineData("/v2/models/fraud/versions/7")]
    [InlineData("/v2/models/nope/ready")]
    [InlineData("/v2/models/fraud/versions/7/ready")]
    public async Task An_unknown_model_or_version_is_404_with_a_v2_error(string path)
    {
        using var response = await Http.GetAsync(path);

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        var error = await V2.ReadErrorAsync(response);
        Assert.Equal(HttpErrorCodes.ModelNotFound, error.Code);
    }

    [Theory]
    [InlineData("/v2/models/fraud/versions/two")]
    [InlineData("/v2/models/fraud/versions/two/ready")]
    public async Task A_version_that_is_not_an_integer_is_400(string path)
    {
        using var response = await Http.GetAsync(path);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal(HttpErrorCodes.InvalidVersion, (await V2.ReadErrorAsync(response)).Code);
    }

    [Theory]
    [InlineData("/v2/models/fraud/ready", HttpStatusCode.OK)]
    [InlineData("/v2/models/fraud/versions/2/ready", HttpStatusCode.OK)]
    [InlineData("/v2/models/fraud/versions/1/ready", HttpStatusCode.ServiceUnavailable)]
    [InlineData("/v2/models/churn/ready", HttpStatusCode.ServiceUnavailable)]
    [InlineData("/v2/models/churn/versions/1/ready", HttpStatusCode.ServiceUnavailable)]
    [InlineData("/v2/models/draft/ready", HttpStatusCode.ServiceUnavailable)]
    [InlineData("/v2/models/broken/ready", HttpStatusCode.ServiceUnavailable)]
    public async Task Model_ready_is_200_only_when_ready_and_serving_the_version_asked_for(string path, HttpStatusCode expected)
    {
        using var response = await Http.GetAsync(path);

        Assert.Equal(expected, response.StatusCode);
        using var document = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        if (expected == HttpStatusCode.OK)
        {
            Assert.True(document.RootElement.GetProperty("ready").GetBoolean());
        }
        else
        {
            Assert.Equal(HttpErrorCodes.ModelNotReady, document.RootElement.GetProperty("code").GetString());
        }
    }

    [Fact]
    public async Task Model_not_ready_says_the_state_and_reason()
    {
        using var response = await Http.GetAsync("/v2/models/broken/ready");

        var error = await V2.ReadErrorAsync(response);
        Assert.Contains("failed", error.Error);
        Assert.Contains("sha256 mismatch for version 3", error.Error);
    }

    [Fact]
    public async Task Server_live_is_200()
    {
        using var response = await Http.GetAsync("/v2/health/live");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        using var document = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.True(document.RootElement.GetProperty("live").GetBoolean());
    }

    [Fact]
    public async Task Server_ready_is_503_naming_each_production_model_not_ready_then_200_when_all_are()
    {
        using (var unready = await Http.GetAsync("/v2/health/ready"))
        {
            Assert.Equal(HttpStatusCode.ServiceUnavailable, unready.StatusCode);
            var error = await V2.ReadErrorAsync(unready);
            Assert.Contains("churn (loading)", error.Error);
            Assert.Contains("broken (failed: sha256 mismatch for version 3)", error.Error);
            Assert.DoesNotContain("draft", error.Error);
            Assert.DoesNotContain("fraud", error.Error);
        }

        // Models without a production version (draft) do not hold readiness back.
        _app.Gateway.Models =
        [
            Models.Fraud,
            Models.Churn with { State = ReplicaState.Ready, ServingVersion = 1 },
            Models.Draft,
        ];
        using var ready = await Http.GetAsync("/v2/health/ready");
        Assert.Equal(HttpStatusCode.OK, ready.StatusCode);
        using var document = JsonDocument.Parse(await ready.Content.ReadAsStringAsync());
        Assert.True(document.RootElement.GetProperty("ready").GetBoolean());
    }

    [Fact]
    public async Task Server_ready_with_no_models_is_200()
    {
        _app.Gateway.Models = [];

        using var response = await Http.GetAsync("/v2/health/ready");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }
}
