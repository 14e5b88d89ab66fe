using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Mlops.Stream.Actors.Tests.Support;
using Mlops.Stream.Inference.Registry;
using Mlops.Stream.Inference.Wire;

namespace Mlops.Stream.Actors.Tests.Registry;

public sealed class FolderModelRegistryTests : IDisposable
{
    private readonly TempDirectory _root = new();
    private readonly FolderModelRegistry _registry;

    public FolderModelRegistryTests()
    {
        _registry = new FolderModelRegistry(_root.Path);
    }

    public void Dispose() => _root.Dispose();

    private static ModelRegistration Registration(string model = "fraud", int? version = null) =>
        DemoFixture.Model.Registration with { Model = model, Version = version };

    private string VersionPath(string model, int version, string file) => Path.Combine(_root.Path, model, version.ToString(), file);

    [Fact]
    public async Task Registering_assigns_max_plus_one_unless_a_version_is_given()
    {
        var first = await _registry.RegisterVersionAsync(Registration());
        var second = await _registry.RegisterVersionAsync(Registration());
        var tenth = await _registry.RegisterVersionAsync(Registration(version: 10));
        var next = await _registry.RegisterVersionAsync(Registration());

        Assert.Equal([1, 2, 10, 11], new[] { first, second, tenth, next }.Select(m => m.Version));
        Assert.Equal([1, 2, 10, 11], await _registry.ListVersionsAsync("fraud"));
        Assert.Equal(["fraud"], await _registry.ListModelsAsync());
        Assert.Empty(Directory.EnumerateFileSystemEntries(Path.Combine(_root.Path, "fraud"), ".*"));
        var duplicate = await Assert.ThrowsAsync<ModelRegistryException>(() => _registry.RegisterVersionAsync(Registration(version: 2)));
        Assert.Equal(ModelRegistryError.Conflict, duplicate.Error);
        Assert.Contains("version 2 already exists", duplicate.Message);
    }

    [Fact]
    public async Task The_manifest_records_identity_checksum_and_the_signature_in_v2_terms()
    {
        var before = DateTimeOffset.UtcNow.AddSeconds(-1);
        var manifest = await _registry.RegisterVersionAsync(Registration());

        var json = JsonNode.Parse(await File.ReadAllTextAsync(VersionPath("fraud", 1, FolderModelRegistry.ManifestFileName)))!;
        Assert.Equal("fraud", (string?)json["name"]);
        Assert.Equal(1, (int?)json["version"]);
        Assert.Equal(DemoFixture.Model.Sha256, (string?)json["sha256"]);
        Assert.Equal("FP32", (string?)json["inputs"]![0]!["datatype"]);
        Assert.Equal("[-1,30]", json["inputs"]![0]!["shape"]!.ToJsonString());
        Assert.Equal("INT64", (string?)json["outputs"]![1]!["datatype"]);
        Assert.Equal(30, json["feature_names"]!.AsArray().Count);
        Assert.Equal(64, (int?)json["batching"]!["max_batch_size"]);
        Assert.Equal("sample-request", (string?)json["sample_request"]!["id"]);
        Assert.NotNull(json["reference_profile"]![0]!["edges"]);
        Assert.InRange(manifest.Created, before, DateTimeOffset.UtcNow);
        Assert.Equal(TimeSpan.Zero, manifest.Created.Offset);
        Assert.Equal(manifest.Signature, (await _registry.GetManifestAsync("fraud", 1)).Signature);
    }

    [Fact]
    public async Task A_model_registered_without_a_signature_gets_the_one_onnx_runtime_reads()
    {
        var manifest = await _registry.RegisterVersionAsync(new ModelRegistration("bare", DemoFixture.Model.OnnxModel));

        Assert.Equal(Mlops.Stream.Demo.DemoModelBuilder.Signature, manifest.Signature);
        Assert.Null(manifest.SampleRequest);
        Assert.Equal(manifest.Sha256, (await _registry.OpenVersionAsync("bare", 1)).Manifest.Sha256);
    }

    [Fact]
    public async Task Registering_a_model_whose_declared_signature_is_wrong_is_refused()
    {
        var wrong = new ModelSignature(
            [new TensorSpec("features", TensorDataType.Fp32, [-1, 29])],
            DemoFixture.Model.Registration.Signature!.Outputs);

        var error = await Assert.ThrowsAsync<ModelRegistryException>(
            () => _registry.RegisterVersionAsync(Registration() with { Signature = wrong }));

        Assert.Equal(ModelRegistryError.SignatureMismatch, error.Error);
        Assert.Contains("input 'features': expected FP32 [-1,29], found FP32 [-1,30]", error.Message);
        Assert.Empty(await _registry.ListVersionsAsync("fraud"));
    }

    [Fact]
    public async Task Opening_a_version_verifies_it_and_returns_the_bytes_and_manifest()
    {
        await _registry.RegisterVersionAsync(Registration());

        var artifacts = await _registry.OpenVersionAsync("fraud", 1);

        Assert.Equal(DemoFixture.Model.OnnxModel, artifacts.ModelBytes);
        Assert.Equal(VersionPath("fraud", 1, FolderModelRegistry.ModelFileName), artifacts.ModelPath);
        Assert.Equal(4, artifacts.Manifest.SampleRequest!.Inputs[0].Rows);
    }

    [Fact]
    public async Task A_model_file_with_changed_bytes_fails_the_checksum_naming_the_file()
    {
        await _registry.RegisterVersionAsync(Registration());
        var path = VersionPath("fraud", 1, FolderModelRegistry.ModelFileName);
        var bytes = await File.ReadAllBytesAsync(path);
        bytes[bytes.Length / 2] ^= 0xFF;
        await File.WriteAllBytesAsync(path, bytes);

        var error = await Assert.ThrowsAsync<ModelRegistryException>(() => _registry.OpenVersionAsync("fraud", 1));

        Assert.Equal(ModelRegistryError.ChecksumMismatch, error.Error);
        Assert.Contains(path, error.Message);
        Assert.Contains("sha256", error.Message);
    }

    [Fact]
    public async Task A_manifest_that_declares_another_input_fails_naming_the_manifest()
    {
        await _registry.RegisterVersionAsync(Registration());
        var manifestPath = VersionPath("fraud", 1, FolderModelRegistry.ManifestFileName);
        var json = JsonNode.Parse(await File.ReadAllTextAsync(manifestPath))!;
        json["inputs"]![0]!["name"] = "x";
        json["inputs"]![0]!["shape"] = new JsonArray(-1, 31);
        json["sample_request"] = null;
        await File.WriteAllTextAsync(manifestPath, json.ToJsonString());

        var error = await Assert.ThrowsAsync<ModelRegistryException>(() => _registry.OpenVersionAsync("fraud", 1));

        Assert.Equal(ModelRegistryError.SignatureMismatch, error.Error);
        Assert.Contains(manifestPath, error.Message);
        Assert.Contains("input 'x' is missing", error.Message);
        Assert.Contains("unexpected input 'features'", error.Message);
    }

    [Fact]
    public async Task Missing_or_unreadable_files_give_errors_that_name_the_file()
    {
        await _registry.RegisterVersionAsync(Registration());
        await _registry.RegisterVersionAsync(Registration());
        var modelPath = VersionPath("fraud", 1, FolderModelRegistry.ModelFileName);
        var manifestPath = VersionPath("fraud", 2, FolderModelRegistry.ManifestFileName);
        File.Delete(modelPath);
        await File.WriteAllTextAsync(manifestPath, "{\"name\": \"fraud\", ");

        var noModel = await Assert.ThrowsAsync<ModelRegistryException>(() => _registry.OpenVersionAsync("fraud", 1));
        var badManifest = await Assert.ThrowsAsync<ModelRegistryException>(() => _registry.OpenVersionAsync("fraud", 2));
        var noVersion = await Assert.ThrowsAsync<ModelRegistryException>(() => _registry.OpenVersionAsync("fraud", 3));
        var badName = await Assert.ThrowsAsync<ModelRegistryException>(() => _registry.ListVersionsAsync("../etc"));

        Assert.Equal((ModelRegistryError.NotFound, true), (noModel.Error, noModel.Message.Contains(modelPath) && noModel.Message.Contains("missing")));
        Assert.Equal((ModelRegistryError.Corrupt, true), (badManifest.Error, badManifest.Message.Contains(manifestPath)));
        Assert.Equal(ModelRegistryError.NotFound, noVersion.Error);
        Assert.Contains("has no version 3", noVersion.Message);
        Assert.Equal(ModelRegistryError.Invalid, badName.Error);
    }

    [Fact]
    public async Task Aliases_are_stored_tersely_and_must_point_at_existing_versions()
    {
        await _registry.RegisterVersionAsync(Registration());
        await _registry.RegisterVersionAsync(Registration());
        Assert.Same(ModelAliases.Empty, await _registry.GetAliasesAsync("fraud"));

        await _registry.SetAliasesAsync("fraud", ModelAliases.Empty.With("production", 1).With("canary", 2, 0.1));
        var updated = await _registry.SetAliasAsync("fraud", "production", new AliasTarget(2));

        var file = JsonNode.Parse(await File.ReadAllTextAsync(Path.Combine(_root.Path, "fraud", FolderModelRegistry.AliasesFileName)))!;
        Assert.Equal(2, (int?)file["production"]);
        Assert.Equal(0.1, (double?)file["canary"]!["weight"]);
        var read = await _registry.GetAliasesAsync("fraud");
        Assert.Equal((2, new AliasTarget(2, 0.1)), (read.Production!.Value, read.Canary!));
        Assert.Equal(updated.ToString(), read.ToString());

        var missing = await Assert.ThrowsAsync<ModelRegistryException>(() => _registry.SetAliasAsync("fraud", "canary", new AliasTarget(9, 0.5)));
        var weight = await Assert.ThrowsAsync<ModelRegistryException>(() => _registry.SetAliasAsync("fraud", "canary", new AliasTarget(1, 1.5)));
        Assert.Equal(ModelRegistryError.Conflict, missing.Error);
        Assert.Equal(ModelRegistryError.Invalid, weight.Error);
        Assert.Equal(2, (await _registry.GetAliasesAsync("fraud")).Production);
    }

    [Fact]
    public async Task Readers_never_see_a_partial_aliases_file_while_it_is_switched()
    {
        await _registry.RegisterVersionAsync(Registration());
        await _registry.RegisterVersionAsync(Registration());

        // Pad the file so a torn write would be visible: each version is a different length.
        var a = Enumerable.Range(0, 200).Aggregate(ModelAliases.Empty.With("production", 1), (aliases, i) => aliases.With($"pad-{i:D4}", 1));
        var b = ModelAliases.Empty.With("production", 2).With("canary", 1, 0.25);
        await _registry.SetAliasesAsync("fraud", a);
        var path = Path.Combine(_root.Path, "fraud", FolderModelRegistry.AliasesFileName);
        var expected = new HashSet<string> { a.ToString(), b.ToString() };

        using var done = new CancellationTokenSource();
        var writer = Task.Run(async () =>
        {
            try
            {
                for (var i = 0; i < 200; i++)
                {
                    await _registry.SetAliasesAsync("fraud", i % 2 == 0 ? b : a);
                }
            }
            finally
            {
                done.Cancel();
            }
        });

        var reads = 0;
        while (!done.IsCancellationRequested || reads == 0)
        {
            var text = Encoding.UTF8.GetString(await File.ReadAllBytesAsync(path));
            using var parsed = JsonDocument.Parse(text);
            Assert.Contains((await _registry.GetAliasesAsync("fraud")).ToString(), expected);
            reads++;
        }

        await writer;
        Assert.True(reads > 0);
        Assert.Empty(Directory.EnumerateFiles(Path.Combine(_root.Path, "fraud"), "*.tmp"));
    }

    [Fact]
    public async Task An_upload_streams_into_a_temporary_file_inside_the_registry_and_registering_moves_that_file_into_the_version()
    {
        await using var content = new ForwardOnlyStream(DemoFixture.Model.OnnxModel);

        using var upload = await _registry.ReceiveUploadAsync(content, maxBytes: DemoFixture.Model.OnnxModel.Length);

        Assert.Equal(_root.Path, Path.GetDirectoryName(upload.Path));
        Assert.Equal((DemoFixture.Model.OnnxModel.LongLength, DemoFixture.Model.Sha256), (upload.Length, upload.Sha256));
        Assert.Equal(DemoFixture.Model.OnnxModel, await File.ReadAllBytesAsync(upload.Path));

        var manifest = await _registry.RegisterVersionAsync(Registration() with { OnnxModel = ReadOnlyMemory<byte>.Empty }, upload);

        Assert.Equal((1, DemoFixture.Model.Sha256), (manifest.Version, manifest.Sha256));
        Assert.False(File.Exists(upload.Path));   // moved into the version
        Assert.Equal(DemoFixture.Model.Sha256, (await _registry.OpenVersionAsync("fraud", 1)).Manifest.Sha256);
        Assert.Empty(Directory.EnumerateFileSystemEntries(_root.Path, ".*"));
    }

    [Fact]
    public async Task An_upload_over_its_cap_is_refused_and_leaves_nothing_behind()
    {
        await using var content = new ForwardOnlyStream(new byte[300_000]);

        var error = await Assert.ThrowsAsync<ModelRegistryException>(() => _registry.ReceiveUploadAsync(content, maxBytes: 200_000));

        Assert.Equal(ModelRegistryError.TooLarge, error.Error);
        Assert.Contains("200000 bytes", error.Message);
        Assert.Empty(Directory.EnumerateFileSystemEntries(_root.Path));
    }

    [Fact]
    public async Task A_refused_registration_of_an_upload_leaves_nothing_once_the_upload_is_disposed()
    {
        await using var content = new ForwardOnlyStream([1, 2, 3, 4]);
        var upload = await _registry.ReceiveUploadAsync(content, maxBytes: 1024);

        var error = await Assert.ThrowsAsync<ModelRegistryException>(() => _registry.RegisterVersionAsync(Registration(), upload));
        upload.Dispose();

        Assert.Equal(ModelRegistryError.Invalid, error.Error);
        Assert.Empty(Directory.EnumerateFileSystemEntries(_root.Path));
    }

    private string ScalePath(string model) => Path.Combine(_root.Path, model, FolderModelRegistry.ScaleFileName);

    [Fact]
    public async Task A_scale_is_absent_until_set_is_stored_in_scale_json_and_null_clears_it()
    {
        await _registry.RegisterVersionAsync(Registration());
        Assert.Null(await _registry.GetScaleAsync("fraud"));
        Assert.False(File.Exists(ScalePath("fraud")));

        await _registry.SetScaleAsync("fraud", new ModelScale(3));

        Assert.Equal(new ModelScale(3), await _registry.GetScaleAsync("fraud"));
        Assert.Equal(3, (int?)JsonNode.Parse(await File.ReadAllTextAsync(ScalePath("fraud")))!["replicas"]);
        Assert.Same(ModelAliases.Empty, await _registry.GetAliasesAsync("fraud"));   // a scale is not an alias

        await _registry.SetScaleAsync("fraud", new ModelScale(5));
        Assert.Equal(5, (await _registry.GetScaleAsync("fraud"))!.Replicas);

        await _registry.SetScaleAsync("fraud", null);
        Assert.Null(await _registry.GetScaleAsync("fraud"));
        Assert.False(File.Exists(ScalePath("fraud")));
        await _registry.SetScaleAsync("fraud", null);   // clearing again is fine
        Assert.Empty(Directory.EnumerateFiles(Path.Combine(_root.Path, "fraud"), "*.tmp"));
    }

    [Theory]
    [InlineData(1, true)]
    [InlineData(64, true)]
    [InlineData(0, false)]
    [InlineData(65, false)]
    [InlineData(-1, false)]
    public async Task A_replica_count_must_be_from_1_to_64(int replicas, bool accepted)
    {
        await _registry.RegisterVersionAsync(Registration());
        await _registry.SetScaleAsync("fraud", new ModelScale(2));

        if (accepted)
        {
            await _registry.SetScaleAsync("fraud", new ModelScale(replicas));
            Assert.Equal(replicas, (await _registry.GetScaleAsync("fraud"))!.Replicas);
            return;
        }

        var error = await Assert.ThrowsAsync<ModelRegistryException>(() => _registry.SetScaleAsync("fraud", new ModelScale(replicas)));
        Assert.Equal(ModelRegistryError.Invalid, error.Error);
        Assert.Contains($"replicas must be from 1 to 64, was {replicas}", error.Message);
        Assert.Equal(2, (await _registry.GetScaleAsync("fraud"))!.Replicas);   // unchanged
    }

    [Fact]
    public async Task Scaling_a_model_the_registry_does_not_have_is_refused_and_writes_nothing()
    {
        var unknown = await Assert.ThrowsAsync<ModelRegistryException>(() => _registry.SetScaleAsync("ghost", new ModelScale(2)));
        var cleared = await Assert.ThrowsAsync<ModelRegistryException>(() => _registry.SetScaleAsync("ghost", null));
        var badName = await Assert.ThrowsAsync<ModelRegistryException>(() => _registry.SetScaleAsync("../fraud", new ModelScale(2)));

        Assert.Equal(ModelRegistryError.NotFound, unknown.Error);
        Assert.Contains("'ghost'", unknown.Message);
        Assert.Equal(ModelRegistryError.NotFound, cleared.Error);
        Assert.Equal(ModelRegistryError.Invalid, badName.Error);
        Assert.Null(await _registry.GetScaleAsync("ghost"));
        Assert.False(Directory.Exists(Path.Combine(_root.Path, "ghost")));
    }

    [Theory]
    [InlineData("{\"replicas\": ")]
    [InlineData("null")]
    [InlineData("{\"replicas\": 0}")]
    [InlineData("{\"replicas\": 1000}")]
    [InlineData("{\"replicas\": \"three\"}")]
    public async Task A_corrupt_scale_file_gives_an_error_naming_the_file(string content)
    {
        await _registry.RegisterVersionAsync(Registration());
        await File.WriteAllTextAsync(ScalePath("fraud"), content);

        var error = await Assert.ThrowsAsync<ModelRegistryException>(() => _registry.GetScaleAsync("fraud"));

        Assert.Equal(ModelRegistryError.Corrupt, error.Error);
        Assert.Contains(ScalePath("fraud"), error.Message);
        Assert.Contains("not a valid scale file", error.Message);

        // Setting a scale replaces the corrupt file.
        await _registry.SetScaleAsync("fraud", new ModelScale(2));
        Assert.Equal(2, (await _registry.GetScaleAsync("fraud"))!.Replicas);
    }

    [Fact]
    public async Task Watchers_are_told_when_a_scale_is_set_changed_or_cleared()
    {
        await _registry.RegisterVersionAsync(Registration());
        var calls = 0;
        using var watch = _registry.WatchAliases(() => Interlocked.Increment(ref calls));

        await _registry.SetScaleAsync("fraud", new ModelScale(3));
        await Eventually.HoldsAsync(() => Volatile.Read(ref calls) > 0, "the watcher is told the scale was set", TimeSpan.FromSeconds(10));

        Interlocked.Exchange(ref calls, 0);
        await _registry.SetScaleAsync("fraud", new ModelScale(4));
        await Eventually.HoldsAsync(() => Volatile.Read(ref calls) > 0, "the watcher is told the scale changed", TimeSpan.FromSeconds(10));

        Interlocked.Exchange(ref calls, 0);
        await _registry.SetScaleAsync("fraud", null);
        await Eventually.HoldsAsync(() => Volatile.Read(ref calls) > 0, "the watcher is told the scale was cleared", TimeSpan.FromSeconds(10));
    }

    [Theory]
    [InlineData("fraud.dlq")]
    [InlineData("-fraud")]
    [InlineData("fraud demo")]
    public async Task A_model_name_that_could_be_part_of_another_models_topics_is_refused_at_registration(string name)
    {
        var error = await Assert.ThrowsAsync<ModelRegistryException>(() => _registry.RegisterVersionAsync(Registration(model: name)));

        Assert.Equal(ModelRegistryError.Invalid, error.Error);
        Assert.Contains("letters, digits, '_' and '-'", error.Message);
        Assert.Empty(Directory.EnumerateFileSystemEntries(_root.Path));
    }
}
