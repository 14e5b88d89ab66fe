using System.Collections.Immutable;
using System.Text;
using Mlops.Stream.Actors.Tests.Support;
using Mlops.Stream.Demo;
using Mlops.Stream.Inference.Registry;

namespace Mlops.Stream.Actors.Tests.Registry;

/// <summary>
/// Reference samples (issue 11): CSV read with the reason and place of every refusal, written back
/// round-trippable, stored beside the model by the folder registry with the version's profile and
/// feature names taken from it, replaced by a baseline, and refused (with nothing registered) when
/// the header does not fit the model.
/// </summary>
public sealed class ReferenceSampleTests : IDisposable
{
    private readonly TempDirectory _root = new();
    private readonly FolderModelRegistry _registry;

    public ReferenceSampleTests()
    {
        _registry = new FolderModelRegistry(_root.Path);
    }

    public void Dispose() => _root.Dispose();

    [Fact]
    public void Csv_with_a_header_of_names_reads_into_columns_and_writes_back_to_equal_values()
    {
        var sample = ReferenceSample.ParseCsv("\uFEFF\"amount\", hour\n50.5,12\n\n1e-3 , -7\n"u8.ToArray());

        Assert.Equal(["amount", "hour"], sample.Features.ToArray());
        Assert.Equal([50.5, 1e-3], sample.Columns[0]);
        Assert.Equal([12, -7], sample.Columns[1]);
        var again = ReferenceSample.ParseCsv(ReferenceSample.Of(["x"], [[0.1 + 0.2, Math.PI]]).ToCsv());
        Assert.Equal([0.1 + 0.2, Math.PI], again.Columns[0]);
    }

    [Theory]
    [InlineData("", "the CSV is empty")]
    [InlineData("a,b\n", "a header but no rows")]
    [InlineData("a,b\n1,2\n3\n", "line 3: 1 cells, the header names 2 features")]
    [InlineData("a,b\n1,2\n3,abc\n", "line 3, column 'b': 'abc' is not a finite number")]
    [InlineData("a,b\n1,NaN\n", "line 2, column 'b': 'NaN' is not a finite number")]
    [InlineData("a,,b\n1,2,3\n", "must name every feature")]
    [InlineData("a,a\n1,2\n", "names 'a' twice")]
    public void Bad_csv_is_refused_with_the_reason_and_where(string csv, string reason)
    {
        var refused = Assert.Throws<ReferenceSampleException>(() => ReferenceSample.ParseCsv(Encoding.UTF8.GetBytes(csv)));
        Assert.Contains(reason, refused.Message);
    }

    [Fact]
    public void A_sample_past_its_row_limit_is_refused()
    {
        var csv = new StringBuilder("x\n");
        for (var i = 0; i <= ReferenceSample.MaxRows; i++) csv.Append("1\n");

        var refused = Assert.Throws<ReferenceSampleException>(() => ReferenceSample.ParseCsv(Encoding.UTF8.GetBytes(csv.ToString())));
        Assert.Contains($"more than {ReferenceSample.MaxRows} rows", refused.Message);
    }

    [Fact]
    public async Task A_version_registered_with_a_sample_stores_it_and_takes_its_profile_and_feature_names_from_it()
    {
        var sample = DemoSample(rows: 400, seed: 3);
        var registration = DemoFixture.Model.Registration with { Model = "fraud", FeatureNames = [], ReferenceProfile = [], ReferenceSample = sample };

        var manifest = await _registry.RegisterVersionAsync(registration);

        Assert.Equal(FraudDataset.FeatureNames.ToArray(), manifest.FeatureNames.ToArray());
        Assert.Equal(sample.Profile().Select(p => (p.Feature, p.Edges.ToArray(), p.Counts.ToArray())),
            manifest.ReferenceProfile.Select(p => (p.Feature, p.Edges.ToArray(), p.Counts.ToArray())));
        var path = Path.Combine(_root.Path, "fraud", "1", ReferenceSample.FileName);
        Assert.True(File.Exists(path));
        // As if written a minute ago: the registry keeps only files written well before it read them (file times tick coarsely).
        File.SetLastWriteTimeUtc(path, DateTime.UtcNow.AddMinutes(-1));
        var stored = await _registry.GetReferenceSampleAsync("fraud", 1);
        Assert.Equal(sample.Columns, stored!.Columns);
        // Unchanged on disk: the same parsed sample, so drift jobs asking again and again cost a stat.
        Assert.Same(stored, await _registry.GetReferenceSampleAsync("fraud", 1));
    }

    [Fact]
    public async Task A_sample_whose_header_does_not_fit_the_model_is_refused_and_nothing_is_registered()
    {
        var wrongCount = ReferenceSample.Of(["a", "b"], [[1.0], [2.0]]);
        var wrongNames = ReferenceSample.Of([.. FraudDataset.FeatureNames.Reverse()], [.. FraudDataset.FeatureNames.Select(_ => new[] { 1.0 })]);

        var byCount = await Assert.ThrowsAsync<ModelRegistryException>(() => _registry.RegisterVersionAsync(
            DemoFixture.Model.Registration with { Model = "fraud", FeatureNames = [], ReferenceSample = wrongCount }));
        var byNames = await Assert.ThrowsAsync<ModelRegistryException>(() => _registry.RegisterVersionAsync(
            DemoFixture.Model.Registration with { Model = "fraud", ReferenceSample = wrongNames }));

        Assert.Equal(ModelRegistryError.Invalid, byCount.Error);
        Assert.Contains("the header names 2 features but the model's input 'features' has 30 columns", byCount.Message);
        Assert.Contains("same names, same order", byNames.Message);
        Assert.Empty(await _registry.ListVersionsAsync("fraud"));
        Assert.Empty(Directory.EnumerateFiles(_root.Path, "*", SearchOption.AllDirectories));
    }

    [Fact]
    public async Task A_baseline_replaces_the_sample_of_a_version_and_a_version_without_one_has_none()
    {
        await _registry.RegisterVersionAsync(DemoFixture.Model.Registration with { Model = "fraud" });
        Assert.Null(await _registry.GetReferenceSampleAsync("fraud", 1));

        var baseline = DemoSample(rows: 50, seed: 4);
        await _registry.SetReferenceSampleAsync("fraud", 1, baseline);
        Assert.Equal(baseline.Columns, (await _registry.GetReferenceSampleAsync("fraud", 1))!.Columns);

        var newer = DemoSample(rows: 60, seed: 5);
        await _registry.SetReferenceSampleAsync("fraud", 1, newer);
        Assert.Equal(60, (await _registry.GetReferenceSampleAsync("fraud", 1))!.Rows);

        var unfit = await Assert.ThrowsAsync<ModelRegistryException>(() => _registry.SetReferenceSampleAsync("fraud", 1, ReferenceSample.Of(["x"], [[1.0]])));
        Assert.Equal(ModelRegistryError.Invalid, unfit.Error);
        var unknown = await Assert.ThrowsAsync<ModelRegistryException>(() => _registry.SetReferenceSampleAsync("fraud", 7, newer));
        Assert.Equal(ModelRegistryError.NotFound, unknown.Error);
        Assert.Empty(Directory.EnumerateFileSystemEntries(Path.Combine(_root.Path, "fraud", "1"), ".*"));
    }

    /// <summary><paramref name="rows"/> rows of the demo's fraud data, its 30 feature names as header.</summary>
    internal static ReferenceSample DemoSample(int rows, int seed)
    {
        var data = FraudDataGenerator.Generate(rows, seed);
        return ReferenceSample.Of(FraudDataset.FeatureNames, [.. Enumerable.Range(0, FraudDataset.FeatureCount).Select(data.Column)]);
    }
}
