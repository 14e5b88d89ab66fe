using System.Text.Json;
using Grpc.Core;
using Mlops.Stream.Grpc.Protocol;
using Mlops.Stream.Grpc.Tests.Support;
using Mlops.Stream.Http;
using Mlops.Stream.Http.Tests.Support;

namespace Mlops.Stream.Grpc.Tests;

/// <summary>The protocol's health and metadata calls answer what the HTTP edge's /v2 routes answer.</summary>
public sealed class GrpcMetadataTests : IAsyncLifetime
{
    private GrpcTestApp _app = null!;

    private GRPCInferenceService.GRPCInferenceServiceClient Client => _app.Client;

    public async Task InitializeAsync()
    {
        _app = await GrpcTestApp.StartAsync();
        _app.Gateway.Models = Models.All;
    }

    public async Task DisposeAsync() => await _app.DisposeAsync();

    [Fact]
    public async Task Server_live_is_true_and_server_ready_is_false_while_a_production_model_is_not_served_then_true()
    {
        Assert.True((await Client.ServerLiveAsync(new ServerLiveRequest())).Live);
        Assert.False((await Client.ServerReadyAsync(new ServerReadyRequest())).Ready);   // churn loads, broken failed

        _app.Gateway.Models = [Models.Fraud, Models.Draft];

        Assert.True((await Client.ServerReadyAsync(new ServerReadyRequest())).Ready);
    }

    [Theory]
    [InlineData("fraud", "", true)]
    [InlineData("fraud", "2", true)]
    [InlineData("fraud", "1", false)]   // known, but version 2 is the one served
    [InlineData("churn", "", false)]    // loading
    [InlineData("broken", "", false)]   // failed
    public async Task Model_ready_says_whether_the_model_and_version_are_served(string model, string version, bool ready) =>
        Assert.Equal(ready, (await Client.ModelReadyAsync(new ModelReadyRequest { Name = model, Version = version })).Ready);

    [Theory]
    [InlineData("nope", "", StatusCode.NotFound, HttpErrorCodes.ModelNotFound, "model 'nope' is not in the registry")]
    [InlineData("fraud", "9", StatusCode.NotFound, HttpErrorCodes.ModelNotFound, "model 'fraud' has no version 9 (versions: 1, 2)")]
    [InlineData("fraud", "x", StatusCode.InvalidArgument, HttpErrorCodes.InvalidVersion, "model version 'x' is not an integer")]
    public async Task Unknown_models_and_versions_are_refused_as_over_http(string model, string version, StatusCode status, string code, string message)
    {
        foreach (var call in new Func<Task>[]
        {
            () => Client.ModelReadyAsync(new ModelReadyRequest { Name = model, Version = version }).ResponseAsync,
            () => Client.ModelMetadataAsync(new ModelMetadataRequest { Name = model, Version = version }).ResponseAsync,
        })
        {
            var error = await Assert.ThrowsAsync<RpcException>(call);
            Assert.Equal((status, code, message), (error.StatusCode, error.Trailers.GetValue(GrpcErrors.CodeTrailer), error.Status.Detail));
        }
    }

    [Fact]
    public async Task Server_metadata_is_the_http_edges()
    {
        using var http = JsonDocument.Parse(await _app.Http.GetStringAsync("/v2"));

        var grpc = await Client.ServerMetadataAsync(new ServerMetadataRequest());

        Assert.Equal(http.RootElement.GetProperty("name").GetString(), grpc.Name);
        Assert.Equal(http.RootElement.GetProperty("version").GetString(), grpc.Version);
        Assert.Equal(http.RootElement.GetProperty("extensions").EnumerateArray().Select(e => e.GetString()), grpc.Extensions);
    }

    [Theory]
    [InlineData("fraud", "")]
    [InlineData("fraud", "1")]
    [InlineData("churn", "")]   // no signature known yet: empty inputs and outputs
    public async Task Model_metadata_is_the_http_edges_field_for_field(string model, string version)
    {
        var path = version.Length == 0 ? $"/v2/models/{model}" : $"/v2/models/{model}/versions/{version}";
        using var http = JsonDocument.Parse(await _app.Http.GetStringAsync(path));

        var grpc = await Client.ModelMetadataAsync(new ModelMetadataRequest { Name = model, Version = version });

        var root = http.RootElement;
        Assert.Equal(root.GetProperty("name").GetString(), grpc.Name);
        Assert.Equal(root.GetProperty("platform").GetString(), grpc.Platform);
        Assert.Equal(root.GetProperty("versions").EnumerateArray().Select(v => v.GetString()), grpc.Versions);
        Assert.Equal(Tensors(root.GetProperty("inputs")), grpc.Inputs.Select(Describe));
        Assert.Equal(Tensors(root.GetProperty("outputs")), grpc.Outputs.Select(Describe));
    }

    private static IEnumerable<string> Tensors(JsonElement list) => list.EnumerateArray().Select(t =>
        $"{t.GetProperty("name").GetString()} {t.GetProperty("datatype").GetString()} [{string.Join(",", t.GetProperty("shape").EnumerateArray().Select(d => d.GetInt64()))}]");

    private static string Describe(Protocol.ModelMetadataResponse.Types.TensorMetadata t) => $"{t.Name} {t.Datatype} [{string.Join(",", t.Shape)}]";
}
