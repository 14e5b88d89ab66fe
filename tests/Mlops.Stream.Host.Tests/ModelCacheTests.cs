using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Confluent.Kafka;
using Mlops.Stream.Actors.Serving;
using Mlops.Stream.Inference.Wire;
using Mlops.Stream.Kafka.Connection;
using Mlops.Stream.Kafka.Topics;
using Microsoft.Extensions.DependencyInjection;
using Mlops.Stream.Demo;
using Mlops.Stream.Host.Tests.Infrastructure;
using Mlops.Stream.Inference.Caching;
using Mlops.Stream.Inference.Registry;

namespace Mlops.Stream.Host.Tests;

/// <summary>
/// Many models per node under a memory budget (issue 15): 50 small models behind a budget that fits
/// 10, on a real node over HTTP. The cache's own peak and per-replica counts are exact (kept under
/// its lock), so "at most 10 loaded at any time" needs no sampling.
/// </summary>
public sealed class ModelCacheTests
{
    private const int Models = 50;
    private const int Fits = 10;

    /// <summary>m00 holds a lone request until a batch-mate arrives (or its 60 s queue delay passes): a request kept in flight at will.</summary>
    private const string Held = "m00";

    private const string Pinned = "m01";

    private static string Name(int i) => $"m{i:00}";

    [Fact]
    public async Task Fifty_models_behind_a_budget_for_ten_all_answer_while_at_most_ten_are_loaded_and_pinned_or_busy_models_stay()
    {
        using var registry = new TempDirectory("mlops-cache-registry-");
        var demo = DemoModelBuilder.Build("m", seed: 5);
        await RegisterAsync(new FolderModelRegistry(registry.Path), demo);
        var perModel = ModelCache.EstimateBytes(demo.OnnxModel.Length);
        var budget = Fits * perModel + perModel / 2;

        await using var node = await TestNode.StartAsync($"--Registry:Path={registry.Path}", $"--Inference:ModelMemoryBudget={budget}",
            "--Http:Inference:InferTimeout=00:02:00");
        await node.WaitForOkAsync("/v2/health/ready");
        var cache = node.App.Services.GetRequiredService<ModelCache>();

        // Pin m01 and load it; from then on it is never evicted.
        using (var pinned = await node.Http.PostAsync($"/api/v1/models/{Pinned}/pin", null))
            Assert.Equal(HttpStatusCode.OK, pinned.StatusCode);
        await InferOkAsync(node, Pinned, "pin-load");
        await Eventually.HoldsAsync(() => Entry(cache, Pinned) is { Pinned: true, State: "loaded" }, "m01 is pinned and loaded", Timeout,
            () => Entry(cache, Pinned));
        var pinnedEvictions = Entry(cache, Pinned).Evictions;

        // One request to m00 waits in its batcher for a batch-mate: in flight until the test sends one.
        using var patient = new HttpClient { BaseAddress = node.Address, Timeout = TimeSpan.FromMinutes(2) };
        var held = patient.PostAsync($"/v2/models/{Held}/infer", JsonBody.From(DemoRequests.Body("held-1")));
        await Eventually.HoldsAsync(() => Entry(cache, Held) is { InFlight: 1, State: "loaded" }, "m00 has its request in flight", Timeout,
            () => Entry(cache, Held));
        var heldEvictions = Entry(cache, Held).Evictions;
        var evictionsBefore = cache.Summary().Evictions;

        // Every other model once, four at a time: most are cold starts that evict the least recently used idle model.
        await SpreadAsync(node, Enumerable.Range(0, Models).Select(Name).Where(m => m != Held), "while-held");

        Assert.False(held.IsCompleted, "the held request is still waiting for its batch-mate");
        Assert.Equal(heldEvictions, Entry(cache, Held).Evictions);
        Assert.True(cache.Summary().Evictions - evictionsBefore >= Models - Fits - 1,
            $"cold starts evicted other models meanwhile ({cache.Summary().Evictions - evictionsBefore})");
        await InferOkAsync(node, Held, "held-2");   // the batch-mate: both run
        using (var answer = await held) Assert.Equal(HttpStatusCode.OK, answer.StatusCode);

        // Two more rounds over the others in a scrambled order (m00 would hold a lone request for a minute).
        for (var round = 0; round < 2; round++)
            await SpreadAsync(node, Enumerable.Range(0, Models).Select(i => Name(i * 17 % Models)).Where(m => m != Held), $"round-{round}");

        var summary = cache.Summary();
        Assert.Equal(Fits, summary.PeakReserved);
        Assert.InRange(summary.PeakReservedBytes, 1, budget);
        Assert.Equal(pinnedEvictions, Entry(cache, Pinned).Evictions);
        Assert.Equal("loaded", Entry(cache, Pinned).State);
        Assert.True(summary.Loads >= Models, $"every model was loaded at least once ({summary.Loads} loads)");

        // The same figures through the API and the metrics.
        var listed = await node.Http.GetFromJsonAsync<JsonElement>("/api/v1/models");
        var loaded = listed.EnumerateArray().Count(m => m.GetProperty("loaded").GetBoolean());
        Assert.InRange(loaded, 1, Fits);
        Assert.True(listed.EnumerateArray().Single(m => m.GetProperty("name").GetString() == Pinned).GetProperty("pinned").GetBoolean());
        var audit = await node.Http.GetFromJsonAsync<JsonElement>("/api/v1/audit?limit=100");
        Assert.Contains(audit.EnumerateArray(), e => e.GetProperty("action").GetString() == "pin" && e.GetProperty("model").GetString() == Pinned);
        var metrics = await node.Http.GetStringAsync("/metrics");
        Assert.Contains($"mlops_model_cache_evictions_total {summary.Evictions}", metrics);
        Assert.Contains("mlops_model_cold_start_seconds_count", metrics);
    }

    [Fact]
    public async Task A_model_larger_than_the_whole_budget_answers_507_naming_the_budget_and_the_others_keep_serving()
    {
        using var registry = new TempDirectory("mlops-cache-registry-");
        var demo = DemoModelBuilder.Build("m", seed: 5);
        var folder = new FolderModelRegistry(registry.Path);
        await folder.RegisterVersionAsync(demo.Registration);
        await folder.SetAliasAsync("m", ModelAliases.ProductionAlias, new AliasTarget(1));
        // The budget is below one session's estimate: the model passes its checks but can never load.
        await using var node = await TestNode.StartAsync($"--Registry:Path={registry.Path}",
            $"--Inference:ModelMemoryBudget={ModelCache.EstimateBytes(demo.OnnxModel.Length) - 1}");
        await node.WaitForOkAsync("/v2/health/ready");

        using var response = await node.Http.PostAsync("/v2/models/m/infer", JsonBody.From(DemoRequests.Body("too-big")));

        Assert.Equal(HttpStatusCode.InsufficientStorage, response.StatusCode);
        var error = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Contains("Inference:ModelMemoryBudget", error.GetProperty("error").GetString());
    }

    [Fact]
    public async Task Records_for_a_kafka_only_model_that_http_traffic_evicted_load_it_again_and_are_all_predicted_within_the_budget()
    {
        const string kafkaOnly = "k";
        string[] others = ["h1", "h2", "h3"];
        const int fits = 2;
        using var registry = new TempDirectory("mlops-cache-registry-");
        var demo = DemoModelBuilder.Build("m", seed: 5);
        var folder = new FolderModelRegistry(registry.Path);
        foreach (var model in others.Prepend(kafkaOnly))
        {
            await folder.RegisterVersionAsync(demo.Registration with { Model = model });
            await folder.SetAliasAsync(model, ModelAliases.ProductionAlias, new AliasTarget(1));
        }
        await using var node = await TestNode.StartAsync($"--Registry:Path={registry.Path}", $"--Inference:MaxLoadedModels={fits}",
            "--Inference:KafkaBacklogCheck=00:00:00.5",
            // The embedded broker lets a new member in only once the old one's session has timed out: an
            // evicted model's consumer leaves, and the next load's consumer joins.
            "--Kafka:ConsumerProperties:session.timeout.ms=6000", "--Kafka:ConsumerProperties:heartbeat.interval.ms=500");
        await node.WaitForOkAsync("/v2/health/ready");
        var cache = node.App.Services.GetRequiredService<ModelCache>();
        var bootstrap = node.App.Services.GetRequiredService<KafkaEndpoint>().BootstrapServers;
        var topics = ModelTopics.For(node.App.Services.GetRequiredService<TopicCatalog>(), kafkaOnly);

        // Records before any eviction: served whether the model loaded at start or loads for them.
        await ProduceAsync(bootstrap, topics.Requests, Enumerable.Range(0, 20).Select(i => $"before-{i}"));
        await WaitForPredictionsAsync(bootstrap, topics.Predictions, 20, cache);

        // HTTP traffic to the other three evicts the idle Kafka-only model (the budget holds two).
        var evictions = Entry(cache, kafkaOnly).Evictions;
        await Eventually.HoldsAsync(async () =>
        {
            foreach (var model in others) await InferOkAsync(node, model, $"evict-{Guid.NewGuid():N}");
            return Entry(cache, kafkaOnly) is { State: "unloaded" } entry && entry.Evictions > evictions;
        }, "HTTP traffic to h1-h3 evicted k", Timeout, () => Entry(cache, kafkaOnly));
        var loads = Entry(cache, kafkaOnly).Loads;

        // Records now find no consumer; the replica notices them and loads the model, evicting an HTTP model.
        await ProduceAsync(bootstrap, topics.Requests, Enumerable.Range(0, 50).Select(i => $"after-{i}"));
        var predicted = await WaitForPredictionsAsync(bootstrap, topics.Predictions, 70, cache);

        Assert.Equal(Enumerable.Range(0, 20).Select(i => $"before-{i}").Concat(Enumerable.Range(0, 50).Select(i => $"after-{i}")).Order(),
            predicted.Order());
        Assert.True(Entry(cache, kafkaOnly).Loads > loads, $"k was loaded again for its records ({Entry(cache, kafkaOnly)})");
        Assert.InRange(cache.Summary().PeakReserved, 1, fits);
        foreach (var model in others) await InferOkAsync(node, model, $"after-{model}");
        Assert.InRange(cache.Summary().PeakReserved, 1, fits);
    }

    [Fact]
    public async Task A_canary_that_does_not_fit_beside_production_and_the_kept_previous_version_makes_the_previous_version_go_first()
    {
        var (registry, perSession) = await ThreeVersionsAsync();
        using var _ = registry;
        // Room for two sessions of the model, not three.
        var budget = 2 * perSession + perSession / 2;
        await using var node = await TestNode.StartAsync($"--Registry:Path={registry.Path}", $"--Inference:ModelMemoryBudget={budget}");
        await node.WaitForOkAsync("/v2/models/m/ready");
        var cache = node.App.Services.GetRequiredService<ModelCache>();

        // Promote 2: loaded beside 1 (two sessions fit), and 1 is kept for rollback: both counted.
        await PostOkAsync(node, "/api/v1/models/m/promote", new { version = 2 });
        await Eventually.HoldsAsync(async () => await ServedVersionAsync(node, "m") == "2", "version 2 serves", Timeout);
        await Eventually.HoldsAsync(() => Entry(cache, "m").Bytes == 2 * perSession, "versions 2 and 1 (kept) counted", Timeout, () => Entry(cache, "m"));

        // A canary needs a third session: the kept version 1 is released for it, and the canary serves.
        await PostOkAsync(node, "/api/v1/models/m/canary", new { version = 3, weight = 0.5 });
        await Eventually.HoldsAsync(async () => await ServedVersionAsync(node, "m", version: 3) == "3", "canary version 3 serves", Timeout,
            () => Entry(cache, "m"));
        Assert.Equal(2 * perSession, Entry(cache, "m").Bytes);
        Assert.InRange(cache.Summary().PeakReservedBytes, 1, budget);
        await Eventually.HoldsAsync(async () => (await ReplicaAuditAsync(node)).Any(e => e.Action == "previous-released" && e.Version == 1),
            "the release of version 1 is audited", Timeout);
        Assert.DoesNotContain(await ReplicaAuditAsync(node), e => e.Action == "canary-load");
    }

    [Fact]
    public async Task A_canary_or_a_promotion_that_cannot_fit_the_budget_beside_production_is_refused_and_audited_and_production_keeps_serving()
    {
        var (registry, perSession) = await ThreeVersionsAsync();
        using var _ = registry;
        // Room for one session of the model.
        var budget = perSession + perSession / 2;
        await using var node = await TestNode.StartAsync($"--Registry:Path={registry.Path}", $"--Inference:ModelMemoryBudget={budget}");
        await node.WaitForOkAsync("/v2/models/m/ready");
        var cache = node.App.Services.GetRequiredService<ModelCache>();

        await PostOkAsync(node, "/api/v1/models/m/canary", new { version = 2, weight = 0.5 });

        var refusal = await Eventually.ReadsAsync(async () => (await ReplicaAuditAsync(node)).FirstOrDefault(e => e.Action == "canary-load"),
            e => e is not null, "the canary's refusal is audited", Timeout);
        Assert.Equal(("refused", 2), (refusal!.Result, refusal.Version));
        Assert.Contains("Inference:ModelMemoryBudget", refusal.Detail);
        Assert.Equal("1", await ServedVersionAsync(node, "m"));
        Assert.Equal("http 404", await ServedVersionAsync(node, "m", version: 2));
        Assert.Equal(perSession, Entry(cache, "m").Bytes);

        // A promotion cannot load its version beside the serving one either: refused like a version that fails its checks.
        using (var promoted = await node.Http.PostAsJsonAsync("/api/v1/models/m/promote", new { version = 3 }))
        {
            Assert.Equal(HttpStatusCode.Conflict, promoted.StatusCode);
            Assert.Contains("Inference:ModelMemoryBudget", await promoted.Content.ReadAsStringAsync());
        }
        var swap = await Eventually.ReadsAsync(async () => (await ReplicaAuditAsync(node)).FirstOrDefault(e => e.Action == "swap"),
            e => e is not null, "the swap's refusal is audited", Timeout);
        Assert.Equal(("refused", 3), (swap!.Result, swap.Version));
        Assert.Contains("Inference:ModelMemoryBudget", swap.Detail);
        Assert.Equal("1", await ServedVersionAsync(node, "m"));
        Assert.Equal(perSession, Entry(cache, "m").Bytes);
        Assert.InRange(cache.Summary().PeakReservedBytes, 1, budget);
    }

    /// <summary>Model m, versions 1 (production), 2 and 3, all of one size; and what one session of it counts.</summary>
    private static async Task<(TempDirectory Registry, long PerSession)> ThreeVersionsAsync()
    {
        var registry = new TempDirectory("mlops-cache-registry-");
        var folder = new FolderModelRegistry(registry.Path);
        DemoModel demo = null!;
        for (var seed = 1; seed <= 3; seed++)
        {
            demo = DemoModelBuilder.Build("m", seed: seed);
            await folder.RegisterVersionAsync(demo.Registration with { Version = seed });
        }
        await folder.SetAliasAsync("m", ModelAliases.ProductionAlias, new AliasTarget(1));
        return (registry, ModelCache.EstimateBytes(demo.OnnxModel.Length));
    }

    private sealed record ReplicaAudit(string Action, int? Version, string Result, string Detail);

    private static async Task<IReadOnlyList<ReplicaAudit>> ReplicaAuditAsync(TestNode node) =>
    [
        .. (await node.Http.GetFromJsonAsync<JsonElement>("/api/v1/audit?limit=100")).EnumerateArray()
            .Where(e => e.GetProperty("actor").GetString()!.StartsWith("replica:", StringComparison.Ordinal))
            .Select(e => new ReplicaAudit(e.GetProperty("action").GetString()!,
                e.TryGetProperty("version", out var v) && v.ValueKind == JsonValueKind.Number ? v.GetInt32() : null,
                e.GetProperty("result").GetString()!, e.TryGetProperty("detail", out var d) ? d.GetString() ?? "" : "")),
    ];

    private static async Task PostOkAsync(TestNode node, string path, object body)
    {
        using var response = await node.Http.PostAsJsonAsync(path, body);
        Assert.True(response.IsSuccessStatusCode, $"{path} answered {(int)response.StatusCode}: {await response.Content.ReadAsStringAsync()}");
    }

    /// <summary>The version that answered a request (to <paramref name="version"/> when given), or the HTTP status.</summary>
    private static async Task<string> ServedVersionAsync(TestNode node, string model, int? version = null)
    {
        var path = version is null ? $"/v2/models/{model}/infer" : $"/v2/models/{model}/versions/{version}/infer";
        using var response = await node.Http.PostAsync(path, JsonBody.From(DemoRequests.Body($"v-{Guid.NewGuid():N}")));
        return response.StatusCode == HttpStatusCode.OK
            ? InferenceCodec.DecodeResponse(await response.Content.ReadAsByteArrayAsync()).ModelVersion
            : $"http {(int)response.StatusCode}";
    }

    private static async Task ProduceAsync(string bootstrap, string topic, IEnumerable<string> ids)
    {
        using var producer = new ProducerBuilder<string, byte[]>(new ProducerConfig { BootstrapServers = bootstrap }).Build();
        await Task.WhenAll(ids.Select(id => producer.ProduceAsync(topic, DemoRequests.Record(id))));
    }

    /// <summary>Waits until the predictions topic answers <paramref name="count"/> distinct requests (duplicates aside); returns their ids.</summary>
    private static async Task<IReadOnlyCollection<string>> WaitForPredictionsAsync(string bootstrap, string topic, int count, ModelCache cache)
    {
        IReadOnlyCollection<string> Predicted() => TopicReader.ReadAll(bootstrap, topic).Select(r => r.Header(ServingHeaders.RequestId) ?? "").ToHashSet();
        return await Eventually.ReadsAsync(() => Task.FromResult(Predicted()), ids => ids.Count >= count, $"{count} requests predicted in {topic}",
            Timeout, ids => $"{ids.Count} predicted; the cache: {cache.Summary()}; {string.Join("; ", cache.Entries())}");
    }

    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);

    private static ModelCacheEntryView Entry(ModelCache cache, string model) => cache.Entries().Single(e => e.Name == $"{model}#0");

    /// <summary>50 names for one demo model; m00's batching holds a lone request for a batch-mate.</summary>
    private static async Task RegisterAsync(FolderModelRegistry registry, DemoModel demo)
    {
        for (var i = 0; i < Models; i++)
        {
            var registration = demo.Registration with { Model = Name(i) };
            if (Name(i) == Held) registration = registration with { Batching = new BatchingHints(MaxBatchSize: 2, MaxQueueDelayMs: 60_000, DispatchWhenIdle: false) };
            await registry.RegisterVersionAsync(registration);
            await registry.SetAliasAsync(Name(i), ModelAliases.ProductionAlias, new AliasTarget(1));
        }
    }

    private static async Task SpreadAsync(TestNode node, IEnumerable<string> models, string round)
    {
        using var gate = new SemaphoreSlim(4);
        await Task.WhenAll(models.Select(async model =>
        {
            await gate.WaitAsync();
            try
            {
                await InferOkAsync(node, model, $"{round}-{model}");
            }
            finally
            {
                gate.Release();
            }
        }));
    }

    private static async Task InferOkAsync(TestNode node, string model, string id)
    {
        HttpResponseMessage response;
        try
        {
            response = await node.Http.PostAsync($"/v2/models/{model}/infer", JsonBody.From(DemoRequests.Body(id)));
        }
        catch (TaskCanceledException e)
        {
            var cache = node.App.Services.GetRequiredService<ModelCache>();
            throw new TimeoutException($"{model} did not answer; the cache: {cache.Summary()}; {string.Join("; ", cache.Entries())}", e);
        }
        using var _ = response;
        Assert.True(response.StatusCode == HttpStatusCode.OK,
            $"{model} answered {(int)response.StatusCode}: {await response.Content.ReadAsStringAsync()}");
    }
}
