using System.Net;
using System.Text.Json;
using Mlops.Stream.Http.Tests.Support;

namespace Mlops.Stream.Http.Tests;

/// <summary>GET /api/v1/models[/{model}]: the operator's view of every model's versions and state.</summary>
public sealed class ModelsApiTests : IAsyncLifetime
{
    private TestApp _app = null!;

    public async Task InitializeAsync()
    {
        _app = await TestApp.StartAsync();
        _app.Gateway.Models = Models.All;
    }

    public async Task DisposeAsync() => await _app.DisposeAsync();

    [Fact]
    public async Task Lists_every_model_by_name_with_snake_case_fields_and_lowercase_states()
    {
        using var response = await _app.Http.GetAsync("/api/v1/models");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        using var document = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        var models = document.RootElement.EnumerateArray().ToList();
        Assert.Equal(["broken", "churn", "draft", "fraud"], models.Select(m => m.GetProperty("name").GetString()));
        Assert.Equal(["failed", "loading", "not_serving", "ready"], models.Select(m => m.GetProperty("state").GetString()));

        var broken = models[0];
        Assert.Equal(
            ["name", "versions", "production_version", "serving_version", "state", "reason", "canary", "previous_version", "last_swap", "version_stats", "kafka_stream"],
            broken.EnumerateObject().Select(p => p.Name));
        Assert.Equal([2, 3], broken.GetProperty("versions").EnumerateArray().Select(v => v.GetInt32()));
        Assert.Equal(3, broken.GetProperty("production_version").GetInt32());
        Assert.Equal(JsonValueKind.Null, broken.GetProperty("serving_version").ValueKind);
        Assert.Equal("sha256 mismatch for version 3", broken.GetProperty("reason").GetString());

        var draft = models[2];
        Assert.Equal(JsonValueKind.Null, draft.GetProperty("production_version").ValueKind);
        Assert.Equal(JsonValueKind.Null, draft.GetProperty("reason").ValueKind);

        var fraud = models[3];
        Assert.Equal(2, fraud.GetProperty("serving_version").GetInt32());
        Assert.Equal(1, fraud.GetProperty("canary").GetProperty("version").GetInt32());
        Assert.Equal(0.1, fraud.GetProperty("canary").GetProperty("weight").GetDouble());
        Assert.Equal(1, fraud.GetProperty("previous_version").GetInt32());
        Assert.True(fraud.GetProperty("last_swap").GetProperty("succeeded").GetBoolean());
        Assert.Equal(2, fraud.GetProperty("last_swap").GetProperty("to").GetInt32());
        var stats = fraud.GetProperty("version_stats")[0];
        Assert.Equal(90, stats.GetProperty("served").GetInt64());
        Assert.Equal(12.0, stats.GetProperty("p99_ms").GetDouble());
        Assert.Equal(JsonValueKind.Null, broken.GetProperty("canary").ValueKind);
    }

    [Fact]
    public async Task An_empty_registry_is_an_empty_list()
    {
        _app.Gateway.Models = [];

        Assert.Equal("[]", await _app.Http.GetStringAsync("/api/v1/models"));
    }

    [Fact]
    public async Task One_model_is_served_by_name_and_an_unknown_one_is_404()
    {
        using var document = JsonDocument.Parse(await _app.Http.GetStringAsync("/api/v1/models/churn"));
        Assert.Equal("loading", document.RootElement.GetProperty("state").GetString());

        using var missing = await _app.Http.GetAsync("/api/v1/models/nope");
        Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
        Assert.Equal(HttpErrorCodes.ModelNotFound, (await V2.ReadErrorAsync(missing)).Code);
    }
}
