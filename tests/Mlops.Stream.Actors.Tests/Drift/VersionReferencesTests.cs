using Microsoft.Extensions.Logging.Abstractions;
using Mlops.Stream.Actors.Drift;
using Mlops.Stream.Actors.Tests.Registry;
using Mlops.Stream.Actors.Tests.Support;
using Mlops.Stream.Inference.Registry;

namespace Mlops.Stream.Actors.Tests.Drift;

/// <summary>
/// A drift job's references: the manifest's profile until the version has a sample, then the
/// sample, noticed at the next refresh after a baseline replaced it; the same reference while
/// nothing changed, so the windows keep theirs.
/// </summary>
public sealed class VersionReferencesTests : IDisposable
{
    private const string Model = "fraud";
    private readonly TempDirectory _folder = new();

    public void Dispose() => _folder.Dispose();

    [Fact]
    public async Task A_baseline_set_while_the_job_runs_is_taken_at_the_next_refresh()
    {
        var registry = await DriftEvents.RegistryAsync(_folder, Model);
        var clock = new ManualTimeProvider();
        var references = new VersionReferences(registry, Model, TimeSpan.FromSeconds(30), NullLogger.Instance, clock, refreshAfter: TimeSpan.FromSeconds(10));

        await references.LoadAsync(1);
        var fromProfile = references.Get(1)!;
        Assert.All(fromProfile.Features, f => Assert.Null(f.Sample));

        await registry.SetReferenceSampleAsync(Model, 1, ReferenceSampleTests.DemoSample(rows: 200, seed: 2));
        // As if set a minute ago: the registry hands back the same parsed sample only for files written
        // well before it read them (file times tick coarsely), as a baseline is by the next refresh.
        File.SetLastWriteTimeUtc(Path.Combine(_folder.Path, Model, "1", ReferenceSample.FileName), DateTime.UtcNow.AddMinutes(-1));
        clock.Advance(TimeSpan.FromSeconds(9));
        await references.LoadAsync(1);
        Assert.Same(fromProfile, references.Get(1));   // not due yet

        clock.Advance(TimeSpan.FromSeconds(1));
        await references.LoadAsync(1);
        var fromSample = references.Get(1)!;
        Assert.All(fromSample.Features, f => Assert.Equal(200, f.Sample!.Length));

        clock.Advance(TimeSpan.FromSeconds(10));
        await references.LoadAsync(1);
        Assert.Same(fromSample, references.Get(1));    // unchanged on disk: the same reference
    }
}
