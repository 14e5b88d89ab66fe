using System.Diagnostics;
using Mlops.Stream.Demo;
using Mlops.Stream.Inference.Registry;

namespace Mlops.Stream.Bench.Scenarios;

/// <summary>
/// Part of the <c>models</c> scenario (issue 15: "listing 500 models is fast"): the registry reads of
/// one <c>GET /api/v1/models</c> over a folder registry of <c>--list-models</c> models, timed
/// <c>--list-calls</c> times. A list call asks the registry, for every model, its versions, its aliases
/// and the serving (or newest) version's manifest, all at once (as
/// <c>ShardedInferenceGateway.ListModelsAsync</c> does, without the replicas' status asks).
/// Also the first call of a second registry instance over the same folder, as a node that just
/// started pays it (every file read once). Timed once the registrations have settled (3 s later).
/// </summary>
public static class ModelListingBench
{
    public sealed record Result(int Models, int Calls, double FirstCallMs, double P50Ms, double P99Ms);

    public static async Task<Result> RunAsync(int models, int calls)
    {
        var root = Path.Combine(Path.GetTempPath(), "mlops-bench-listing-" + Guid.NewGuid().ToString("N"));
        try
        {
            var registry = new FolderModelRegistry(root);
            var demo = DemoModelBuilder.Build("bench", seed: 7);
            for (var i = 0; i < models; i++)
            {
                var name = $"tenant-{i:000}";
                await registry.RegisterVersionAsync(demo.Registration with { Model = name });
                // Half serve a production version, half only have a version (the list then shows the newest's signature).
                if (i % 2 == 0) await registry.SetAliasAsync(name, ModelAliases.ProductionAlias, new AliasTarget(1));
            }

            // The registry trusts what it keeps in memory only for files written 2 s or more before it
            // read them (see StampedCache): measure the steady state, not the seconds after registering.
            await Task.Delay(TimeSpan.FromSeconds(3));
            var other = new FolderModelRegistry(root);
            var started = Stopwatch.GetTimestamp();
            var seen = await ListAsync(other);
            var firstCallMs = Stopwatch.GetElapsedTime(started).TotalMilliseconds;
            if (seen != models) throw new InvalidOperationException($"the list call saw {seen} models of {models}");

            var times = new double[calls];
            for (var i = 0; i < calls; i++)
            {
                started = Stopwatch.GetTimestamp();
                seen = await ListAsync(registry);
                times[i] = Stopwatch.GetElapsedTime(started).TotalMilliseconds;
                if (seen != models) throw new InvalidOperationException($"the list call saw {seen} models of {models}");
            }
            Array.Sort(times);
            return new Result(models, calls, firstCallMs, ReplicaBench.Percentile(times, 0.5), ReplicaBench.Percentile(times, 0.99));
        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }
    }

    /// <summary>The registry reads of one list call; returns how many models had a manifest.</summary>
    private static async Task<int> ListAsync(IModelRegistry registry)
    {
        var names = await registry.ListModelsAsync();
        var manifests = await Task.WhenAll(names.Select(async name =>
        {
            var versions = await registry.ListVersionsAsync(name);
            var aliases = await registry.GetAliasesAsync(name);
            var shown = aliases.Production ?? versions[^1];
            return await registry.GetManifestAsync(name, shown);
        }));
        return manifests.Length;
    }
}
