using Mlops.Stream.Host.Tests.Infrastructure;

namespace Mlops.Stream.Host.Tests;

/// <summary>
/// Issue 10: several nodes share one registry folder (a shared volume). Started at the same moment
/// on an empty one, every node comes up, and the registry holds the demo model once.
/// </summary>
public sealed class SharedRegistryTests
{
    [Fact]
    public async Task Nodes_started_at_once_on_one_empty_registry_all_come_up_and_share_one_demo_version()
    {
        using var registry = new TempDirectory("mlops-shared-registry-");
        var starts = Enumerable.Range(0, 3).Select(_ => TestNode.StartAsync($"--Registry:Path={registry.Path}")).ToList();
        try
        {
            var nodes = await Task.WhenAll(starts);
            foreach (var node in nodes)
                (await node.WaitForOkAsync("/v2/models/fraud-demo/ready")).Dispose();

            var model = Path.Combine(registry.Path, "fraud-demo");
            Assert.Equal(["1", "aliases.json"], Directory.EnumerateFileSystemEntries(model).Select(Path.GetFileName).Order(StringComparer.Ordinal));
            Assert.Equal(["fraud-demo"], Directory.EnumerateFileSystemEntries(registry.Path).Select(Path.GetFileName));
        }
        finally
        {
            foreach (var start in starts.Where(s => s.IsCompletedSuccessfully))
                await (await start).DisposeAsync();
        }
    }
}
