using System.Collections.Concurrent;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Mlops.Stream.Http.Tests.Support;
using Mlops.Stream.Inference.Lifecycle;
using Mlops.Stream.Inference.Registry;

namespace Mlops.Stream.Http.Tests;

/// <summary>
/// GET and POST /api/v1/models/{model}/scale over a real folder registry and model administration:
/// the answer's shape, what is stored, the refusals' status and code, and the audit of each change.
/// </summary>
public sealed class ScaleApiTests : IAsyncLifetime
{
    private const string Model = "fraud";
    private readonly TempDirectory _folder = new("mlops-scale-api-");
    private readonly MemoryAuditLog _audit = new();
    private FolderModelRegistry _registry = null!;
    private TestApp _app = null!;

    public async Task InitializeAsync()
    {
        _registry = new FolderModelRegistry(_folder.Path);
        // A version folder is all the scale routes need to know the model.
        Directory.CreateDirectory(Path.Combine(_folder.Path, Model, "1"));
        _app = await TestApp.StartAsync(
            services: services => services
                .AddSingleton<IModelRegistry>(_registry)
                .AddSingleton<IAuditLog>(_audit)
                .AddSingleton(sp => new ModelAdministration(sp.GetRequiredService<IModelRegistry>(), sp.GetRequiredService<IAuditLog>())),
            endpoints: app => app.MapAdminApi());
    }

    public async Task DisposeAsync()
    {
        await _app.DisposeAsync();
        _folder.Dispose();
    }

    private async Task<(HttpStatusCode Status, JsonElement Body)> Post(string model, object body)
    {
        using var response = await _app.Http.PostAsJsonAsync($"/api/v1/models/{model}/scale", body);
        return (response.StatusCode, JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.Clone());
    }

    private async Task<(HttpStatusCode Status, JsonElement Body)> Get(string model)
    {
        using var response = await _app.Http.GetAsync($"/api/v1/models/{model}/scale");
        return (response.StatusCode, JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.Clone());
    }

    [Fact]
    public async Task Min_and_max_hand_the_count_to_the_autoscaler_and_its_steps_are_shown_and_audited()
    {
        await Post(Model, new { replicas = 2 });
        var (status, body) = await Post(Model, new { min = 1, max = 3 });

        Assert.Equal(HttpStatusCode.OK, status);
        // Today's count is kept where the range allows it.
        Assert.Equal(("autoscale", 2, 1, 3, true), (body.GetProperty("mode").GetString(), body.GetProperty("replicas").GetInt32(),
            body.GetProperty("min").GetInt32(), body.GetProperty("max").GetInt32(), body.GetProperty("changed").GetBoolean()));
        Assert.False(body.TryGetProperty("last_decision", out _));

        var admin = _app.Services.GetRequiredService<ModelAdministration>();
        // The autoscaler's step is kept within min and max.
        await admin.AutoscaleAsync(Model, 7, "backlog 5000 per replica stayed above 1000 for 30 s", CancellationToken.None);
        var (_, scaled) = await Get(Model);
        Assert.Equal(3, scaled.GetProperty("replicas").GetInt32());
        var decision = scaled.GetProperty("last_decision");
        Assert.Equal((2, 3), (decision.GetProperty("from").GetInt32(), decision.GetProperty("to").GetInt32()));
        Assert.Contains("stayed above 1000", decision.GetProperty("reason").GetString());
        Assert.Contains(_audit.Recent(10), e => e is { Action: "autoscale", Actor: "autoscaler", Result: "ok" } && e.Detail!.StartsWith("replicas 2 -> 3"));

        // A fixed count ends autoscaling; the autoscaler's next step then changes nothing.
        await Post(Model, new { replicas = 1 });
        await admin.AutoscaleAsync(Model, 2, "backlog", CancellationToken.None);
        var (_, fixedScale) = await Get(Model);
        Assert.Equal(("fixed", 1), (fixedScale.GetProperty("mode").GetString(), fixedScale.GetProperty("replicas").GetInt32()));
    }

    [Theory]
    [InlineData("{\"min\":1}")]
    [InlineData("{\"max\":3}")]
    [InlineData("{\"min\":3,\"max\":1}")]
    [InlineData("{\"min\":1,\"max\":3,\"replicas\":5}")]
    [InlineData("{\"min\":0,\"max\":3}")]
    public async Task A_range_that_is_not_one_is_refused_with_invalid_scale(string json)
    {
        using var response = await _app.Http.PostAsync($"/api/v1/models/{Model}/scale",
            new StringContent(json, System.Text.Encoding.UTF8, "application/json"));
        var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("invalid_scale", body.GetProperty("code").GetString());
        Assert.Null(await _registry.GetScaleAsync(Model));
    }

    [Fact]
    public async Task A_model_never_scaled_runs_one_replica_per_node()
    {
        var (status, body) = await Get(Model);

        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal(["model", "mode", "replicas"], body.EnumerateObject().Select(p => p.Name));
        Assert.Equal((Model, "per_node", JsonValueKind.Null),
            (body.GetProperty("model").GetString(), body.GetProperty("mode").GetString(), body.GetProperty("replicas").ValueKind));
    }

    [Fact]
    public async Task Setting_a_count_stores_it_answers_the_new_scale_and_says_whether_it_changed()
    {
        var (status, set) = await Post(Model, new { replicas = 3 });

        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal(["model", "mode", "replicas", "changed"], set.EnumerateObject().Select(p => p.Name));
        Assert.Equal((Model, "fixed", 3, true),
            (set.GetProperty("model").GetString(), set.GetProperty("mode").GetString(), set.GetProperty("replicas").GetInt32(), set.GetProperty("changed").GetBoolean()));
        Assert.Equal(new ModelScale(3), await _registry.GetScaleAsync(Model));

        var (_, read) = await Get(Model);
        Assert.Equal(["model", "mode", "replicas"], read.EnumerateObject().Select(p => p.Name));   // "changed" only on a change
        Assert.Equal(("fixed", 3), (read.GetProperty("mode").GetString(), read.GetProperty("replicas").GetInt32()));

        var (againStatus, again) = await Post(Model, new { replicas = 3 });
        Assert.Equal(HttpStatusCode.OK, againStatus);
        Assert.False(again.GetProperty("changed").GetBoolean());
    }

    [Fact]
    public async Task Null_replicas_goes_back_to_one_per_node()
    {
        await Post(Model, new { replicas = 2 });

        var (status, cleared) = await Post(Model, new { replicas = (int?)null });

        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal(("per_node", JsonValueKind.Null, true),
            (cleared.GetProperty("mode").GetString(), cleared.GetProperty("replicas").ValueKind, cleared.GetProperty("changed").GetBoolean()));
        Assert.Null(await _registry.GetScaleAsync(Model));
        Assert.Equal("per_node", (await Get(Model)).Body.GetProperty("mode").GetString());
    }

    [Theory]
    [InlineData(0)]
    [InlineData(65)]
    public async Task A_count_out_of_range_is_400_invalid_scale_and_changes_nothing(int replicas)
    {
        await Post(Model, new { replicas = 2 });

        var (status, error) = await Post(Model, new { replicas });

        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Equal("invalid_scale", error.GetProperty("code").GetString());
        Assert.Contains($"replicas must be from 1 to 64, was {replicas}", error.GetProperty("error").GetString());
        Assert.Equal(new ModelScale(2), await _registry.GetScaleAsync(Model));
    }

    [Fact]
    public async Task An_unknown_model_is_404_for_both_reading_and_setting()
    {
        var (getStatus, getError) = await Get("ghost");
        var (postStatus, postError) = await Post("ghost", new { replicas = 2 });

        Assert.Equal((HttpStatusCode.NotFound, HttpErrorCodes.ModelNotFound), (getStatus, getError.GetProperty("code").GetString()));
        Assert.Equal((HttpStatusCode.NotFound, HttpErrorCodes.ModelNotFound), (postStatus, postError.GetProperty("code").GetString()));
        Assert.False(Directory.Exists(Path.Combine(_folder.Path, "ghost")));
    }

    [Fact]
    public async Task Every_scale_call_is_audited_with_its_outcome()
    {
        await Post(Model, new { replicas = 3 });
        await Post(Model, new { replicas = 3 });
        await Post(Model, new { replicas = 0 });
        await Post("ghost", new { replicas = 1 });

        var audit = await _app.Http.GetFromJsonAsync<JsonElement>("/api/v1/audit");

        var events = audit.EnumerateArray().ToList();
        Assert.All(events, e => Assert.Equal(("scale", "anonymous"), (e.GetProperty("action").GetString(), e.GetProperty("actor").GetString())));
        Assert.Equal(["not_found", "invalid", "unchanged", "ok"], events.Select(e => e.GetProperty("result").GetString()));
        Assert.Equal(["ghost", Model, Model, Model], events.Select(e => e.GetProperty("model").GetString()));
    }
}
