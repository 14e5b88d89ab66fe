using System.Text.Json;
using Mlops.Stream.Demo;
using Mlops.Stream.Host.Tests.Infrastructure;

namespace Mlops.Stream.Host.Tests;

/// <summary>The README's lifecycle walk-through, with the real `mlops` CLI against a real node.</summary>
public sealed class CliAgainstNodeTests
{
    [Fact]
    public async Task Register_canary_promote_and_rollback_with_the_cli_change_the_node_and_exit_0()
    {
        await using var node = await TestNode.StartAsync();
        await node.WaitForOkAsync("/v2/models/fraud-demo/ready");
        using var scratch = new TempDirectory();
        var file = scratch.File("retrained.onnx");
        await File.WriteAllBytesAsync(file, DemoModelBuilder.Build("fraud-demo", seed: 5).OnnxModel);
        var url = node.Address.ToString();

        var (code, output, _) = await Mlops("models", "register", "fraud-demo", "--file", file, "--url", url);
        Assert.Equal(0, code);
        Assert.Contains("version 2", output);

        (code, output, _) = await Mlops("models", "canary", "fraud-demo", "2", "--weight", "0.1", "--url", url);
        Assert.Equal(0, code);
        await WaitForJson(url, m => m.GetProperty("canary").ValueKind == JsonValueKind.Object && m.GetProperty("canary").GetProperty("version").GetInt32() == 2);

        (code, _, _) = await Mlops("models", "promote", "fraud-demo", "2", "--url", url);
        Assert.Equal(0, code);
        await WaitForJson(url, m => m.GetProperty("serving_version").GetInt32() == 2 && m.GetProperty("canary").ValueKind == JsonValueKind.Null);

        (code, _, _) = await Mlops("models", "rollback", "fraud-demo", "--url", url);
        Assert.Equal(0, code);
        var model = await WaitForJson(url, m => m.GetProperty("serving_version").GetInt32() == 1);
        Assert.Equal(2, model.GetProperty("previous_version").GetInt32());

        var (refused, _, error) = await Mlops("models", "promote", "fraud-demo", "9", "--url", url);
        Assert.Equal(1, refused);
        Assert.Contains("no version 9", error);

        (code, output, _) = await Mlops("audit", "--limit", "50", "--output", "json", "--url", url);
        Assert.Equal(0, code);
        Assert.Equal(["promote", "rollback", "promote", "canary", "register"],
            JsonDocument.Parse(output).RootElement.EnumerateArray()
                .Where(a => a.GetProperty("actor").GetString() == "anonymous")
                .Select(a => a.GetProperty("action").GetString()));
    }

    private static Task<(int Code, string Output, string Error)> Mlops(params string[] args) => MlopsCli.RunAsync(args);

    private static Task<JsonElement> WaitForJson(string url, Func<JsonElement, bool> condition) =>
        Eventually.ReadsAsync(async () =>
        {
            var (code, output, error) = await Mlops("models", "status", "fraud-demo", "--output", "json", "--url", url);
            Assert.True(code == 0, error);
            return JsonDocument.Parse(output).RootElement.Clone();
        }, condition, "the node reaches the expected state", TimeSpan.FromSeconds(60), model => model.GetRawText());
}
