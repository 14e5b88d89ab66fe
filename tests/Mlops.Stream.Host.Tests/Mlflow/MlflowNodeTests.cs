using System.Collections.Concurrent;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Mlops.Stream.Host.Tests.Infrastructure;
using Mlops.Stream.Inference.Registry.Mlflow;
using Mlops.Stream.Inference.Wire;
using static Mlops.Stream.Host.Tests.Mlflow.MlflowFixtures;

namespace Mlops.Stream.Host.Tests.Mlflow;

/// <summary>
/// A real node with <c>Registry:Kind=mlflow</c> against a fake MLflow: promotions made in MLflow reach
/// it by polling and swap without a failed request, its own promotions are written back, an MLflow
/// outage never stops serving and shows in readiness and metrics, and a corrupt artifact is refused.
/// </summary>
public sealed class MlflowNodeTests
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task A_promotion_made_in_MLflow_swaps_the_running_node_with_no_failed_request()
    {
        await using var fake = await FakeMlflow.StartAsync(token: "mlflow-test-token-0123456789");
        await SeedTwoVersionsAsync(fake);
        using var cache = new TempDirectory("mlops-mlflow-node-");
        await using var node = await StartNodeAsync(fake, cache);
        await node.WaitForOkAsync($"/v2/models/{Model}/ready");
        await using var load = Load.Start(node);

        fake.SetAlias(Model, "production", 2);

        await Eventually.HoldsAsync(() => load.LastVersion == "2", "the node serves version 2 after the alias moved in MLflow", Wait, () => load);
        await load.StopAsync();
        Assert.Empty(load.Failures);
        Assert.Contains("\"serving_version\":2", await node.Http.GetStringAsync($"/api/v1/models/{Model}"));
    }

    [Fact]
    public async Task A_promotion_and_a_canary_made_through_the_admin_API_are_written_back_to_MLflow()
    {
        await using var fake = await FakeMlflow.StartAsync();
        await SeedTwoVersionsAsync(fake);
        using var cache = new TempDirectory("mlops-mlflow-node-");
        await using var node = await StartNodeAsync(fake, cache);
        await node.WaitForOkAsync($"/v2/models/{Model}/ready");

        using var promoted = await node.Http.PostAsJsonAsync($"/api/v1/models/{Model}/promote", new { version = 2 });
        Assert.Equal(HttpStatusCode.OK, promoted.StatusCode);
        using var canary = await node.Http.PostAsJsonAsync($"/api/v1/models/{Model}/canary", new { version = 1, weight = 0.2 });
        Assert.Equal(HttpStatusCode.OK, canary.StatusCode);

        Assert.Equal((2, 1, 1), (fake.AliasOf(Model, "production"), fake.AliasOf(Model, "previous"), fake.AliasOf(Model, "canary")));
        Assert.Equal("0.2", fake.VersionTag(Model, 1, MlflowTags.CanaryWeight));
        Assert.Equal("2", await ServedVersionAsync(node, "no-canary-id"));
    }

    [Fact]
    public async Task While_MLflow_is_down_the_node_keeps_serving_readiness_says_why_and_polling_resumes_when_it_is_back()
    {
        await using var fake = await FakeMlflow.StartAsync();
        await SeedTwoVersionsAsync(fake);
        using var cache = new TempDirectory("mlops-mlflow-node-");
        await using var node = await StartNodeAsync(fake, cache);
        await node.WaitForOkAsync($"/v2/models/{Model}/ready");
        await using var load = Load.Start(node);

        await fake.StopAsync();
        var degraded = await Eventually.ReadsAsync(() => RegistryCheckAsync(node), c => c.Status == "Degraded",
            "readiness reports the registry degraded", Wait, c => c.ToString());
        Assert.Contains("unreachable", degraded.Description);
        Assert.Equal(HttpStatusCode.OK, (await node.Http.GetAsync("/healthz/ready")).StatusCode);   // degraded, still ready: it serves
        Assert.Contains("mlops_registry_reachable{backend=\"mlflow\"} 0", await node.Http.GetStringAsync("/metrics"));
        var errors = await load.CountAsync(20);   // requests keep being served while MLflow is down

        await fake.StartAsync();
        await Eventually.ReadsAsync(() => RegistryCheckAsync(node), c => c.Status == "Healthy", "readiness reports the registry healthy again", Wait,
            c => c.ToString());
        fake.SetAlias(Model, "production", 2);
        await Eventually.HoldsAsync(() => load.LastVersion == "2", "a promotion made in MLflow after the outage serves", Wait, () => load);
        await load.StopAsync();
        Assert.Empty(load.Failures);
        Assert.True(errors >= 20);
        Assert.Contains("mlops_registry_reachable{backend=\"mlflow\"} 1", await node.Http.GetStringAsync("/metrics"));
    }

    [Fact]
    public async Task An_artifact_that_fails_its_sha256_is_refused_while_the_old_version_keeps_serving()
    {
        await using var fake = await FakeMlflow.StartAsync();
        await SeedTwoVersionsAsync(fake);
        var corrupt = fake.LogModel(Model, DemoVersion(2).OnnxModel, sha256Tag: DemoVersion(1).Sha256);
        using var cache = new TempDirectory("mlops-mlflow-node-");
        await using var node = await StartNodeAsync(fake, cache);
        await node.WaitForOkAsync($"/v2/models/{Model}/ready");
        await using var load = Load.Start(node);

        fake.SetAlias(Model, "production", corrupt);

        // The replica refuses the version and moves production back in MLflow, so no node serves it later.
        await Eventually.HoldsAsync(() => fake.AliasOf(Model, "production") == 1, "production is moved back to version 1 in MLflow", Wait,
            () => fake.AliasOf(Model, "production"));
        var status = await node.Http.GetStringAsync($"/api/v1/models/{Model}");
        Assert.Contains(MlflowTags.Sha256, status);
        await load.CountAsync(20);
        await load.StopAsync();
        Assert.Empty(load.Failures);
        Assert.Equal(["1"], load.Versions);
        Assert.False(Directory.Exists(Path.Combine(cache.Path, Model, corrupt.ToString(System.Globalization.CultureInfo.InvariantCulture))));
    }

    [Fact]
    public async Task A_production_version_that_fails_its_sha256_is_reported_failed_by_the_status_API_not_answered_with_a_500()
    {
        await using var fake = await FakeMlflow.StartAsync();
        var corrupt = fake.LogModel(Model, DemoVersion(2).OnnxModel, sha256Tag: DemoVersion(1).Sha256);
        fake.SetAlias(Model, "production", corrupt);
        using var cache = new TempDirectory("mlops-mlflow-node-");
        await using var node = await StartNodeAsync(fake, cache);

        // Every read answers (a 500 fails the wait at once); the replica's failure carries the reason.
        var failed = await Eventually.ReadsAsync(() => ModelStateAsync(node), s => s.State == "failed",
            "the status API reports the version failed", Wait, s => s.ToString());
        Assert.Contains("sha256", failed.Reason, StringComparison.OrdinalIgnoreCase);
        using var list = await node.Http.GetAsync("/api/v1/models");
        Assert.Equal(HttpStatusCode.OK, list.StatusCode);
    }

    private static async Task<(string State, string Reason)> ModelStateAsync(TestNode node)
    {
        using var response = await node.Http.GetAsync($"/api/v1/models/{Model}");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var body = await response.Content.ReadFromJsonAsync<JsonElement>();
        return (body.GetProperty("state").GetString()!, body.TryGetProperty("reason", out var reason) ? reason.GetString() ?? "" : "");
    }

    private static Task<TestNode> StartNodeAsync(FakeMlflow fake, TempDirectory cache)
    {
        var arguments = new List<string>
        {
            "--Registry:Kind=mlflow",
            $"--Registry:Mlflow:TrackingUri={fake.Address}",
            $"--Registry:Mlflow:CacheDirectory={cache.Path}",
            "--Registry:Mlflow:PollInterval=00:00:00.200",
            "--Registry:Mlflow:MaxBackoff=00:00:01",
            "--Registry:Mlflow:RequestTimeout=00:00:05",
        };
        if (fake.Token is { } token)
        {
            // A variable of this test's own, named through the setting, as an operator names theirs.
            var variable = $"MLOPS_TEST_MLFLOW_TOKEN_{Guid.NewGuid():N}";
            Environment.SetEnvironmentVariable(variable, token);
            arguments.Add($"--Registry:Mlflow:TokenVariable={variable}");
        }
        return TestNode.StartAsync([.. arguments]);
    }

    private static async Task<(string Status, string Description)> RegistryCheckAsync(TestNode node)
    {
        using var response = await node.Http.GetAsync("/healthz/ready");
        var body = await response.Content.ReadFromJsonAsync<JsonElement>();
        var check = body.GetProperty("checks").EnumerateArray().Single(c => c.GetProperty("name").GetString() == "registry");
        return (check.GetProperty("status").GetString()!, check.GetProperty("description").GetString() ?? "");
    }

    private static async Task<string> ServedVersionAsync(TestNode node, string id)
    {
        var request = InferenceCodec.EncodeRequest(DemoVersion(1).SampleRequest with { Id = id });
        using var response = await node.Http.PostAsync($"/v2/models/{Model}/infer", JsonBody.From(request));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return InferenceCodec.DecodeResponse(await response.Content.ReadAsByteArrayAsync()).ModelVersion!;
    }

    /// <summary>One client sending inference requests back to back, recording every failure and the versions that answered.</summary>
    private sealed class Load : IAsyncDisposable
    {
        private readonly CancellationTokenSource _stop = new();
        private readonly ConcurrentQueue<string> _failures = new();
        private readonly ConcurrentDictionary<string, bool> _versions = new();
        private Task _loop = Task.CompletedTask;
        private long _served;
        private volatile string? _last;

        public string? LastVersion => _last;

        public IReadOnlyCollection<string> Failures => _failures;

        public string[] Versions => [.. _versions.Keys.Order(StringComparer.Ordinal)];

        public static Load Start(TestNode node)
        {
            var load = new Load();
            load._loop = Task.Run(() => load.RunAsync(node));
            return load;
        }

        /// <summary>Waits until <paramref name="more"/> further requests were served; returns how many were served in all.</summary>
        public async Task<long> CountAsync(int more)
        {
            var target = Interlocked.Read(ref _served) + more;
            await Eventually.HoldsAsync(() => Interlocked.Read(ref _served) >= target, $"{more} more requests are served", Wait, () => this);
            return Interlocked.Read(ref _served);
        }

        public async Task StopAsync()
        {
            await _stop.CancelAsync();
            await _loop;
        }

        public async ValueTask DisposeAsync()
        {
            await StopAsync();
            _stop.Dispose();
        }

        public override string ToString() => $"served {_served}, last version {_last}, failures [{string.Join("; ", _failures.Take(3))}]";

        private async Task RunAsync(TestNode node)
        {
            var body = DemoVersion(1).SampleRequestJson;
            while (!_stop.IsCancellationRequested)
            {
                try
                {
                    using var response = await node.Http.PostAsync($"/v2/models/{Model}/infer", JsonBody.From(body));
                    var text = await response.Content.ReadAsByteArrayAsync();
                    if (response.StatusCode != HttpStatusCode.OK)
                    {
                        _failures.Enqueue($"{(int)response.StatusCode}: {System.Text.Encoding.UTF8.GetString(text)}");
                        continue;
                    }
                    var version = InferenceCodec.DecodeResponse(text).ModelVersion!;
                    _versions[version] = true;
                    _last = version;
                    Interlocked.Increment(ref _served);
                }
                catch (Exception e) when (!_stop.IsCancellationRequested)
                {
                    _failures.Enqueue(e.Message);
                }
                catch (OperationCanceledException)
                {
                    return;
                }
            }
        }
    }
}
