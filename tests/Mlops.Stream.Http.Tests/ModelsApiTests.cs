using System.Net;
using System.Text.Json;
using Mlops.Stream.Http.Tests.Support;
using Mlops.Stream.Inference.Gateway;

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
            ["name", "versions", "production_version", "serving_version", "state", "reason", "canary", "previous_version", "last_swap", "version_stats", "kafka_stream", "loaded", "pinned"],
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

    [Fact]
    public async Task Replicas_lists_each_replica_with_where_it_runs_and_how_it_serves()
    {
        _app.Gateway.Replicas["fraud"] =
        [
            new ReplicaInfo("fraud#0", 0, "akka.tcp://mlops@10.0.0.1:4053", Local: true, Reachable: true, ReplicaState.Ready)
            {
                ServingVersion = 2,
                KafkaStream = new KafkaStreamStatus(true, 0, 0, null, null) { Partitions = [0, 2], Lag = 17 },
            },
            new ReplicaInfo("fraud#1", 1, "akka.tcp://mlops@10.0.0.2:4053", Local: false, Reachable: false, State: null),
            new ReplicaInfo("fraud#2", 2, "akka.tcp://mlops@10.0.0.3:4053", Local: false, Reachable: true, ReplicaState.Failed)
            {
                Reason = "sha256 mismatch for version 2",
            },
        ];

        using var response = await _app.Http.GetAsync("/api/v1/models/fraud/replicas");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        using var document = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        var replicas = document.RootElement.EnumerateArray().ToList();
        Assert.Equal(3, replicas.Count);
        Assert.Equal(
            ["replica", "index", "node", "local", "reachable", "state", "serving_version", "reason", "partitions", "lag", "queue_depth", "planned", "loaded"],
            replicas[0].EnumerateObject().Select(p => p.Name));

        var local = replicas[0];
        Assert.Equal(("fraud#0", 0, "akka.tcp://mlops@10.0.0.1:4053", true, true, "ready", 2),
            (local.GetProperty("replica").GetString(), local.GetProperty("index").GetInt32(), local.GetProperty("node").GetString(),
             local.GetProperty("local").GetBoolean(), local.GetProperty("reachable").GetBoolean(), local.GetProperty("state").GetString(),
             local.GetProperty("serving_version").GetInt32()));
        Assert.Equal([0, 2], local.GetProperty("partitions").EnumerateArray().Select(p => p.GetInt32()));
        Assert.Equal(17, local.GetProperty("lag").GetInt64());

        // A replica that did not answer (or whose node is unreachable): state "unknown", nothing else known.
        var silent = replicas[1];
        Assert.Equal(("fraud#1", 1, false, false, "unknown"),
            (silent.GetProperty("replica").GetString(), silent.GetProperty("index").GetInt32(), silent.GetProperty("local").GetBoolean(),
             silent.GetProperty("reachable").GetBoolean(), silent.GetProperty("state").GetString()));
        Assert.Equal(JsonValueKind.Null, silent.GetProperty("serving_version").ValueKind);
        Assert.Equal(0, silent.GetProperty("partitions").GetArrayLength());
        Assert.Equal(JsonValueKind.Null, silent.GetProperty("lag").ValueKind);

        Assert.Equal(("failed", "sha256 mismatch for version 2"),
            (replicas[2].GetProperty("state").GetString(), replicas[2].GetProperty("reason").GetString()));
    }

    [Fact]
    public async Task Replicas_of_a_known_model_with_none_running_is_an_empty_list_and_of_an_unknown_model_is_404()
    {
        Assert.Equal("[]", await _app.Http.GetStringAsync("/api/v1/models/draft/replicas"));

        using var missing = await _app.Http.GetAsync("/api/v1/models/nope/replicas");
        Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
        Assert.Equal(HttpErrorCodes.ModelNotFound, (await V2.ReadErrorAsync(missing)).Code);
    }
}
