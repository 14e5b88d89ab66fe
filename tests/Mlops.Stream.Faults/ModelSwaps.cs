using System.Net;
using System.Net.Http.Json;
using Mlops.Stream.Demo;

namespace Mlops.Stream.Faults;

/// <summary>
/// Swaps done to a running node through its admin API, for the fault runs: two more versions of the
/// demo network (other seeds, so their answers differ and a prediction tagged with the wrong
/// version is caught), then promotions round the three versions and rollbacks between them.
/// </summary>
public static class ModelSwaps
{
    private const int Promotions = 10;
    private static readonly TimeSpan Between = TimeSpan.FromMilliseconds(700);

    public static async Task PromoteAndRollBackAsync(FaultTarget target, CancellationToken stop)
    {
        foreach (var seed in new[] { 7, 8 })
            await RegisterAsync(target, DemoModelBuilder.Build(target.Model, seed).OnnxModel, stop).ConfigureAwait(false);
        var versions = new[] { 2, 3, 1 };
        for (var i = 0; i < Promotions; i++)
        {
            await Task.Delay(Between, stop).ConfigureAwait(false);
            using var promoted = await target.Node.PostAsJsonAsync($"/api/v1/models/{target.Model}/promote", new { version = versions[i % versions.Length] }, stop)
                .ConfigureAwait(false);
            await ExpectAsync(promoted, $"promotion {i + 1} to version {versions[i % versions.Length]}", HttpStatusCode.OK, HttpStatusCode.Accepted).ConfigureAwait(false);
            if (i is 3 or 7)
            {
                await Task.Delay(Between, stop).ConfigureAwait(false);
                using var rolledBack = await target.Node.PostAsync($"/api/v1/models/{target.Model}/rollback", null, stop).ConfigureAwait(false);
                await ExpectAsync(rolledBack, $"rollback after promotion {i + 1}", HttpStatusCode.OK, HttpStatusCode.Accepted).ConfigureAwait(false);
            }
        }
    }

    /// <summary>Registers <paramref name="onnx"/> as the model's next version.</summary>
    public static async Task RegisterAsync(FaultTarget target, byte[] onnx, CancellationToken stop)
    {
        using var registered = await target.Node.PostAsync($"/api/v1/models/{target.Model}/versions", new ByteArrayContent(onnx), stop).ConfigureAwait(false);
        await ExpectAsync(registered, "register a version", HttpStatusCode.Created).ConfigureAwait(false);
    }

    /// <summary>Promotes <paramref name="version"/> and waits until it serves (the node answers 200 once the swap is done).</summary>
    public static async Task PromoteAndWaitAsync(FaultTarget target, int version, CancellationToken stop)
    {
        using var promoted = await target.Node.PostAsJsonAsync($"/api/v1/models/{target.Model}/promote?wait_seconds=60", new { version }, stop).ConfigureAwait(false);
        await ExpectAsync(promoted, $"promotion to version {version}", HttpStatusCode.OK).ConfigureAwait(false);
    }

    private static async Task ExpectAsync(HttpResponseMessage response, string what, params HttpStatusCode[] expected)
    {
        if (!expected.Contains(response.StatusCode))
            throw new InvalidOperationException($"{what}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync().ConfigureAwait(false)}");
    }
}
