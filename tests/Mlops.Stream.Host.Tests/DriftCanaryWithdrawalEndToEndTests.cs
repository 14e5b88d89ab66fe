using System.Net;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Mlops.Stream.Actors.Drift;
using Mlops.Stream.Demo;
using Mlops.Stream.Host.Drift;
using Mlops.Stream.Host.Tests.Infrastructure;
using Mlops.Stream.Inference.Registry;
using Mlops.Stream.Inference.Wire;

namespace Mlops.Stream.Host.Tests;

/// <summary>
/// Issue 11's automated response end to end on one node with <c>Drift:WithdrawCanaryOnDrift</c> set:
/// production serves reference-like traffic (stable windows), the canary serves traffic shifted by
/// three standard deviations (a drifted window), and the drift job withdraws the canary (its alias
/// removed, production untouched) and audits it.
/// </summary>
public sealed class DriftCanaryWithdrawalEndToEndTests
{
    private const string Model = "fraud-demo";
    // Large enough for PSI over 10 bins to stay under 0.1 on reference-like traffic (its expectation is about 9 / events).
    private const int WindowEvents = 200;
    private static readonly TimeSpan Timeout = TimeSpan.FromMinutes(2);

    [Fact]
    public async Task A_canary_whose_window_drifts_while_productions_does_not_is_withdrawn_and_audited()
    {
        await using var node = await TestNode.StartAsync($"--Drift:WindowEvents={WindowEvents}", "--Drift:WindowSpan=01:00:00",
            $"--Drift:WithdrawCanaryOnDrift={Model}");
        (await node.WaitForOkAsync($"/v2/models/{Model}/ready")).Dispose();
        await node.ActorSystem.ActorSelection($"/user/{DriftHostingExtensions.SingletonName}").ResolveOne(Timeout);
        var registry = node.App.Services.GetRequiredService<IModelRegistry>();
        await registry.RegisterVersionAsync(DemoModelBuilder.Build(Model, seed: 8).Registration with { Version = 2 });
        var (code, _, error) = await MlopsCli.RunAsync("models", "canary", Model, "2", "--weight", "0.01", "--url", node.Address.ToString());
        Assert.True(code == 0, error);

        // Production: reference-like traffic (drawn from the reference profile by `mlops load`), stable windows.
        var (loaded, _, loadError) = await MlopsCli.RunAsync("load", Model, "--rate", "400", "--duration", "1s", "--seed", "1", "--url", node.Address.ToString());
        Assert.True(loaded == 0, loadError);
        var production = await Eventually.ReadsAsync(() => WindowsAsync(node, 1), w => w.Count >= 1, "a window of production", Timeout);
        Assert.All(production, w => Assert.Equal("stable", w.GetProperty("dataset").GetProperty("verdict").GetString()));
        Assert.Equal(2, (await registry.GetAliasesAsync(Model)).Canary?.Version);

        // The canary: rows drawn from its profile and shifted by three standard deviations, asked of version 2 by number.
        var profile = (await registry.GetManifestAsync(Model, 2)).ReferenceProfile;
        var random = new Random(5);
        for (var i = 0; i < WindowEvents; i++)
        {
            float[] row = [.. profile.Select(p => (float)(Draw(p, random) + (3 * p.StdDev)))];
            await Eventually.ReadsAsync(() => InferVersionAsync(node, 2, $"c-{i}", row), served => served, "the canary serves", Timeout);
        }

        await Eventually.ReadsAsync(async () => ((await registry.GetAliasesAsync(Model)).Canary, await node.Http.GetStringAsync($"/api/v1/models/{Model}/drift?windows=3")),
            seen => seen.Canary is null, "the canary withdrawn", Timeout, seen => $"canary {seen.Canary}; windows " + string.Join("; ",
                JsonDocument.Parse(seen.Item2).RootElement.GetProperty("versions").EnumerateArray().SelectMany(v => v.GetProperty("windows").EnumerateArray()
                    .Select(w => $"v{w.GetProperty("version")} {w.GetProperty("events")} {w.GetProperty("dataset").GetProperty("verdict")}"))));
        Assert.Equal(1, (await registry.GetAliasesAsync(Model)).Production);
        var canaryWindow = (await WindowsAsync(node, 2))[0];
        Assert.Equal("drifted", canaryWindow.GetProperty("dataset").GetProperty("verdict").GetString());
        var audit = await Eventually.ReadsAsync(() => node.Http.GetStringAsync("/api/v1/audit"), body => body.Contains(DriftCanaryGuard.AuditAction),
            "the withdrawal is audited", Timeout);
        var audited = JsonDocument.Parse(audit).RootElement.EnumerateArray().Single(e => e.GetProperty("action").GetString() == DriftCanaryGuard.AuditAction);
        Assert.Equal(("drift-job", 2, "ok"), (audited.GetProperty("actor").GetString(), audited.GetProperty("version").GetInt32(), audited.GetProperty("result").GetString()));
        Assert.Contains("while production version 1's latest window did not", audited.GetProperty("detail").GetString());
    }

    /// <summary>One value drawn from a profile's histogram: a bin by its count, then uniformly inside it.</summary>
    private static double Draw(FeatureProfile profile, Random random)
    {
        var pick = random.NextInt64(profile.Count);
        var bin = 0;
        while (pick >= profile.Counts[bin]) pick -= profile.Counts[bin++];
        return profile.Edges[bin] + (random.NextDouble() * (profile.Edges[bin + 1] - profile.Edges[bin]));
    }

    /// <summary>One request to <paramref name="version"/> by number; false while the replica does not serve it yet.</summary>
    private static async Task<bool> InferVersionAsync(TestNode node, int version, string id, float[] row)
    {
        using var content = new ByteArrayContent(InferenceCodec.EncodeRequest(new InferenceRequest(id, [Tensor.Create("features", row, 1, row.Length)])));
        content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("application/json");
        using var response = await node.Http.PostAsync($"/v2/models/{Model}/versions/{version}/infer", content);
        return response.StatusCode == HttpStatusCode.OK;
    }

    /// <summary>The windows of <paramref name="version"/>, newest first, from the drift topic.</summary>
    private static async Task<List<JsonElement>> WindowsAsync(TestNode node, int version)
    {
        var body = JsonDocument.Parse(await node.Http.GetStringAsync($"/api/v1/models/{Model}/drift")).RootElement;
        return [.. body.GetProperty("versions").EnumerateArray().Where(v => v.GetProperty("version").GetInt32() == version)
            .SelectMany(v => v.GetProperty("windows").EnumerateArray()).Select(w => w.Clone())];
    }
}
