using Mlops.Stream.Actors.Tests.Support;
using Mlops.Stream.Inference.Registry;

namespace Mlops.Stream.Actors.Tests.Registry;

/// <summary>
/// Issue 15, "listing 500 models is fast": the folder registry answers what it read before from
/// memory while the files are unchanged, and still sees what another node writes to the shared folder.
/// </summary>
public sealed class FolderRegistryCacheTests : IDisposable
{
    private readonly TempDirectory _root = new();

    public void Dispose() => _root.Dispose();

    private static ModelRegistration Registration(string model) => DemoFixture.Model.Registration with { Model = model, Version = null };

    [Fact]
    public async Task A_second_list_call_reads_no_unchanged_file_or_folder_again()
    {
        var registry = new FolderModelRegistry(_root.Path);
        foreach (var model in new[] { "alpha", "beta", "gamma" })
        {
            await registry.RegisterVersionAsync(Registration(model));
            await registry.RegisterVersionAsync(Registration(model));
        }
        await registry.SetAliasAsync("alpha", ModelAliases.ProductionAlias, new AliasTarget(2));
        await registry.SetScaleAsync("beta", new ModelScale(3));
        Backdate(_root.Path);

        var before = registry.DiskReads;
        var first = await ListAsync(registry);
        var readsAfterFirst = registry.DiskReads;
        var second = await ListAsync(registry);

        // Every file changed (backdated) since registering, so the first call read them all: the root
        // and 3 model folders, 3 manifests, alpha's aliases and beta's scale (absent files are not read).
        Assert.Equal(9, readsAfterFirst - before);
        Assert.Equal(readsAfterFirst, registry.DiskReads);
        Assert.Equal(first, second);
        Assert.Equal(["alpha:1,2:production=2:v2:", "beta:1,2:(no aliases):v2:3", "gamma:1,2:(no aliases):v2:"], second);
    }

    [Fact]
    public async Task A_model_registered_or_promoted_by_another_node_over_the_same_folder_shows_up()
    {
        var node1 = new FolderModelRegistry(_root.Path);
        var node2 = new FolderModelRegistry(_root.Path);
        await node1.RegisterVersionAsync(Registration("alpha"));
        Backdate(_root.Path);
        Assert.Equal(["alpha:1:(no aliases):v1:"], await ListAsync(node1));

        await node2.RegisterVersionAsync(Registration("beta"));
        await node2.RegisterVersionAsync(Registration("alpha"));
        await node2.SetAliasAsync("alpha", ModelAliases.ProductionAlias, new AliasTarget(2));
        await node2.SetScaleAsync("alpha", new ModelScale(2));

        Assert.Equal(["alpha:1,2:production=2:v2:2", "beta:1:(no aliases):v1:"], await ListAsync(node1));
    }

    [Fact]
    public async Task A_file_replaced_within_one_tick_of_the_clock_is_still_seen()
    {
        // File times tick coarsely: another node may replace a file with one of the same length and
        // the same last-write time. Only files written well before they were read are trusted.
        var node1 = new FolderModelRegistry(_root.Path);
        var node2 = new FolderModelRegistry(_root.Path);
        await node1.RegisterVersionAsync(Registration("alpha"));
        await node1.RegisterVersionAsync(Registration("alpha"));
        await node1.SetAliasAsync("alpha", ModelAliases.ProductionAlias, new AliasTarget(1));
        var path = Path.Combine(_root.Path, "alpha", FolderModelRegistry.AliasesFileName);
        var written = File.GetLastWriteTimeUtc(path);
        var length = new FileInfo(path).Length;
        Assert.Equal(1, (await node1.GetAliasesAsync("alpha")).Production);

        await node2.SetAliasAsync("alpha", ModelAliases.ProductionAlias, new AliasTarget(2));
        File.SetLastWriteTimeUtc(path, written);

        Assert.Equal(length, new FileInfo(path).Length);
        Assert.Equal(2, (await node1.GetAliasesAsync("alpha")).Production);
    }

    [Fact]
    public async Task Listing_500_models_returns_all_500()
    {
        var registry = new FolderModelRegistry(_root.Path);
        var names = Enumerable.Range(0, 500).Select(i => $"tenant-{i:000}").ToArray();
        foreach (var name in names)
        {
            await registry.RegisterVersionAsync(Registration(name));
            if (name.EndsWith('7')) await registry.SetAliasAsync(name, ModelAliases.ProductionAlias, new AliasTarget(1));
        }
        Backdate(_root.Path);

        var other = new FolderModelRegistry(_root.Path);
        var expected = names.Select(n => n.EndsWith('7') ? $"{n}:1:production=1:v1:" : $"{n}:1:(no aliases):v1:").ToArray();
        Assert.Equal(expected, await ListAsync(other));
        var reads = other.DiskReads;
        Assert.Equal(expected, await ListAsync(other));
        Assert.Equal(reads, other.DiskReads);
    }

    /// <summary>What a model list shows per model: name, versions, aliases, the shown version's manifest, scale.</summary>
    private static async Task<string[]> ListAsync(IModelRegistry registry) =>
        await Task.WhenAll((await registry.ListModelsAsync()).Select(async model =>
        {
            var versions = await registry.ListVersionsAsync(model);
            var aliases = await registry.GetAliasesAsync(model);
            var manifest = await registry.GetManifestAsync(model, aliases.Production ?? versions[^1]);
            var scale = await registry.GetScaleAsync(model);
            return $"{model}:{string.Join(',', versions)}:{aliases}:v{manifest.Version}:{scale?.Replicas}";
        }));

    /// <summary>Every file and folder as if written a minute ago: the registry keeps only what was written well before it read it.</summary>
    private static void Backdate(string root)
    {
        var past = DateTime.UtcNow.AddMinutes(-1);
        foreach (var file in Directory.EnumerateFiles(root, "*", SearchOption.AllDirectories)) File.SetLastWriteTimeUtc(file, past);
        foreach (var folder in Directory.EnumerateDirectories(root, "*", SearchOption.AllDirectories)) Directory.SetLastWriteTimeUtc(folder, past);
        Directory.SetLastWriteTimeUtc(root, past);
    }
}
