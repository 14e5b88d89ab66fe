using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Mlops.Stream.Demo;
using Mlops.Stream.Host.Drift;
using Mlops.Stream.Host.Tests.Infrastructure;
using Mlops.Stream.Inference.Registry;
using Mlops.Stream.Inference.Wire;
using Xunit.Abstractions;

namespace Mlops.Stream.Host.Tests;

/// <summary>
/// Issue 11's reference samples end to end on one node with its embedded broker: a version
/// registered with <c>mlops models register --reference</c> serves the sample's profile as its
/// reference and its drift windows are judged by the exact two-sample KS test against the sample
/// (a bad CSV is refused and registers nothing); <c>mlops drift baseline</c> turns a past window of
/// served traffic (found by timestamp on the served topic) into the production version's
/// reference, audited, and the drift job judges the next window against it.
/// </summary>
public sealed class DriftReferenceEndToEndTests(ITestOutputHelper output)
{
    private const string Model = "fraud-demo";
    private const int WindowEvents = 20;
    private static readonly TimeSpan Timeout = TimeSpan.FromMinutes(2);

    [Fact]
    public async Task A_version_registered_with_a_reference_sample_is_judged_against_it_and_a_bad_sample_registers_nothing()
    {
        await using var node = await StartAsync();
        using var folder = new TempDirectory("drift-reference-");
        var onnx = Path.Combine(folder.Path, "model.onnx");
        await File.WriteAllBytesAsync(onnx, DemoModelBuilder.Build(Model, seed: 8).OnnxModel);
        var data = FraudDataGenerator.Generate(300, seed: 5);
        var good = Path.Combine(folder.Path, "reference.csv");
        await File.WriteAllTextAsync(good, Csv(FraudDataset.FeatureNames, data));
        var nonNumeric = Path.Combine(folder.Path, "non-numeric.csv");
        var lines = Csv(FraudDataset.FeatureNames, data).Split('\n');
        lines[1] = "abc" + lines[1][lines[1].IndexOf(',', StringComparison.Ordinal)..];
        await File.WriteAllTextAsync(nonNumeric, string.Join('\n', lines));
        var wrongHeader = Path.Combine(folder.Path, "wrong-header.csv");
        await File.WriteAllTextAsync(wrongHeader, "a,b\n1,2\n");

        var (bad, _, badError) = await Cli(node, "models", "register", Model, "--file", onnx, "--reference", nonNumeric);
        Assert.NotEqual(0, bad);
        Assert.Contains("reference sample is not valid: line 2, column 'amount': 'abc'", badError);
        var (unfit, _, unfitError) = await Cli(node, "models", "register", Model, "--file", onnx, "--reference", wrongHeader);
        Assert.NotEqual(0, unfit);
        Assert.Contains("the header names 2 features but the model's input 'features' has 30 columns", unfitError);
        Assert.Equal([1], await node.App.Services.GetRequiredService<IModelRegistry>().ListVersionsAsync(Model));

        var (code, text, error) = await Cli(node, "models", "register", Model, "--file", onnx, "--reference", good);
        Assert.True(code == 0, error);
        Assert.Contains($"Registered {Model} version 2.", text);
        var reference = await GetJsonAsync(node, $"/api/v1/models/{Model}/reference?version=2");
        Assert.Equal(("sample", 300), (reference.GetProperty("source").GetString(), reference.GetProperty("sample_rows").GetInt32()));
        Assert.Equal(FraudDataset.FeatureNames, reference.GetProperty("feature_names").EnumerateArray().Select(n => n.GetString()!));
        Assert.All(reference.GetProperty("features").EnumerateArray(), f => Assert.Equal(300, f.GetProperty("count").GetInt64()));

        var (promoted, _, promoteError) = await Cli(node, "models", "promote", Model, "2", "--wait");
        Assert.True(promoted == 0, promoteError);
        var traffic = FraudDataGenerator.Generate(WindowEvents, seed: 6);
        for (var i = 0; i < WindowEvents; i++) await InferAsync(node, $"v2-{i}", traffic.Row(i).ToArray());

        var window = (await WaitForWindowsAsync(node, 2, w => w.Count == 1, "a window of version 2"))[0];
        output.WriteLine(window.GetProperty("dataset").GetRawText());
        AssertJudgedAgainstTheSample(window);
    }

    [Fact]
    public async Task A_baseline_of_served_traffic_becomes_the_reference_of_the_versions_next_window_and_is_audited()
    {
        await using var node = await StartAsync("--Drift:RefreshReferenceAfter=00:00:01");
        var data = FraudDataGenerator.Generate(10 * WindowEvents, seed: 9);
        var from = DateTimeOffset.UtcNow.AddSeconds(-1);
        for (var i = 0; i < WindowEvents; i++) await InferAsync(node, $"b-{i}", data.Row(i).ToArray());
        var first = (await WaitForWindowsAsync(node, 1, w => w.Count == 1, "the first window"))[0];
        Assert.All(first.GetProperty("features").EnumerateArray(), f => Assert.Equal("profile", f.GetProperty("reference").GetString()));

        // A window without traffic is refused; nothing changes.
        var (empty, _, emptyError) = await Cli(node, "drift", "baseline", Model, "--from", "2020-01-01T00:00:00Z", "--to", "2020-01-02T00:00:00Z");
        Assert.NotEqual(0, empty);
        Assert.Contains("holds 0 usable rows", emptyError);

        var (code, text, error) = await Cli(node, "drift", "baseline", Model, "--from", from.ToString("O", CultureInfo.InvariantCulture), "--to", "now");
        Assert.True(code == 0, error);
        Assert.Contains($"{Model} version 1: reference set to {WindowEvents} rows sampled from {WindowEvents} rows of {WindowEvents} served events", text);
        var reference = await GetJsonAsync(node, $"/api/v1/models/{Model}/reference");
        Assert.Equal(("sample", WindowEvents), (reference.GetProperty("source").GetString(), reference.GetProperty("sample_rows").GetInt32()));
        var audit = await Eventually.ReadsAsync(() => node.Http.GetStringAsync("/api/v1/audit"), body => body.Contains("reference-baseline"), "the baseline is audited", Timeout);
        var audited = JsonDocument.Parse(audit).RootElement.EnumerateArray().Single(e => e.GetProperty("action").GetString() == "reference-baseline");
        Assert.Equal(("ok", 1), (audited.GetProperty("result").GetString(), audited.GetProperty("version").GetInt32()));

        // The job notices the new reference within a second; the version's next window after that is judged against it.
        var sent = WindowEvents;
        var windows = await Eventually.ReadsAsync(async () =>
            {
                for (var i = 0; i < WindowEvents; i++, sent++) await InferAsync(node, $"b-{sent}", data.Row(sent % data.Rows).ToArray());
                return await WaitForWindowsAsync(node, 1, w => w.Count == sent / WindowEvents, $"window {sent / WindowEvents}");
            }, w => w[0].GetProperty("features").EnumerateArray().All(f => f.GetProperty("reference").GetString() == "sample"),
            "a window judged against the baseline", Timeout);
        // How many windows close before the job looks again depends on the machine's speed; what holds
        // always is that a window is judged against one reference, never partly against each.
        Assert.All(windows, w => Assert.Single(w.GetProperty("features").EnumerateArray().Select(f => f.GetProperty("reference").GetString()).Distinct()));
        AssertJudgedAgainstTheSample(windows[0]);
    }

    /// <summary>
    /// Every feature judged against the sample: the exact two-sample KS test (the sample has at most
    /// 1,000 rows), except the demo's three 0/1 flags, categorical by Evidently's rule: Jensen-Shannon.
    /// </summary>
    private static void AssertJudgedAgainstTheSample(JsonElement window)
    {
        string[] flags = ["card_present", "online", "foreign"];
        Assert.All(window.GetProperty("features").EnumerateArray(), f =>
            Assert.Equal((flags.Contains(f.GetProperty("feature").GetString()) ? "jensen_shannon" : "kolmogorov_smirnov", "sample"),
                (f.GetProperty("method").GetString(), f.GetProperty("reference").GetString())));
    }

    private static async Task<TestNode> StartAsync(params string[] extra)
    {
        var node = await TestNode.StartAsync([$"--Drift:WindowEvents={WindowEvents}", "--Drift:WindowSpan=01:00:00", .. extra]);
        (await node.WaitForOkAsync($"/v2/models/{Model}/ready")).Dispose();
        await node.ActorSystem.ActorSelection($"/user/{DriftHostingExtensions.SingletonName}").ResolveOne(Timeout);
        return node;
    }

    private static string Csv(IEnumerable<string> header, FraudDataset data)
    {
        var csv = new StringBuilder().AppendJoin(',', header).Append('\n');
        for (var r = 0; r < data.Rows; r++) csv.AppendJoin(',', data.Row(r).ToArray().Select(v => v.ToString("R", CultureInfo.InvariantCulture))).Append('\n');
        return csv.ToString();
    }

    private static Task<(int Code, string Output, string Error)> Cli(TestNode node, params string[] args) =>
        MlopsCli.RunAsync([.. args, "--url", node.Address.ToString()]);

    private static Task<int> InferAsync(TestNode node, string id, float[] row) => DemoRequests.InferAsync(node, Model, id, row);

    private static async Task<JsonElement> GetJsonAsync(TestNode node, string path)
    {
        using var response = await node.Http.GetAsync(path);
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, text);
        return JsonDocument.Parse(text).RootElement.Clone();
    }

    /// <summary>The windows of <paramref name="version"/> from the API (newest first) once <paramref name="condition"/> holds.</summary>
    private static Task<List<JsonElement>> WaitForWindowsAsync(TestNode node, int version, Func<List<JsonElement>, bool> condition, string what) =>
        Eventually.ReadsAsync(async () =>
            {
                var versions = (await GetJsonAsync(node, $"/api/v1/models/{Model}/drift")).GetProperty("versions").EnumerateArray();
                return versions.Where(v => v.GetProperty("version").GetInt32() == version)
                    .SelectMany(v => v.GetProperty("windows").EnumerateArray()).Select(w => w.Clone()).ToList();
            }, condition, what, Timeout, windows => $"{windows.Count} windows", TimeSpan.FromMilliseconds(200));
}
