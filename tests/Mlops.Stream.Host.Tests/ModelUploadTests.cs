using System.Net;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Mlops.Stream.Actors.Tests.Support;
using Mlops.Stream.Demo;
using Mlops.Stream.Host.Tests.Infrastructure;
using Mlops.Stream.Inference.Registry;

namespace Mlops.Stream.Host.Tests;

/// <summary>
/// Issue 13, defect 9: model uploads stream into a temporary file of the registry instead of the
/// node's memory, and are capped by <c>Registry:MaxUploadBytes</c>.
/// </summary>
public sealed class ModelUploadTests
{
    private const string Versions = "/api/v1/models/fraud-demo/versions";

    [Fact]
    public async Task An_upload_over_Registry_MaxUploadBytes_gets_413_sized_chunked_or_multipart_and_leaves_nothing_in_the_registry()
    {
        using var registryFolder = new TempDirectory("mlops-test-registry-");
        var registry = registryFolder.Path;
        await using var node = await TestNode.StartAsync($"--Registry:Path={registry}", "--Registry:MaxUploadBytes=1048576");
        var tooLarge = new byte[2 * 1024 * 1024];
        var bodies = new (string Kind, Func<HttpContent> Content)[]
        {
            ("sized", () => new ByteArrayContent(tooLarge)),                       // Content-Length says so before a byte is read
            ("chunked", () => new StreamContent(new ForwardOnlyStream(tooLarge))),   // no length: counted while it streams
            ("multipart", () => new MultipartFormDataContent { { new ByteArrayContent(tooLarge), "file", "model.onnx" } }),
        };

        foreach (var (kind, content) in bodies)
        {
            using var response = await node.Http.PostAsync(Versions, content());
            var body = await response.Content.ReadFromJsonAsync<JsonElement>();
            Assert.True(response.StatusCode == HttpStatusCode.RequestEntityTooLarge, $"{kind}: {(int)response.StatusCode} {body}");
            Assert.Equal("upload_too_large", body.GetProperty("code").GetString());
            Assert.Contains("1048576 bytes", body.GetProperty("error").GetString());
        }

        Assert.Equal([Path.Combine(registry, "fraud-demo")], Directory.EnumerateFileSystemEntries(registry));
        Assert.Empty(Directory.EnumerateFileSystemEntries(registry, ".*", SearchOption.AllDirectories));
        Assert.Equal([1], await node.App.Services.GetRequiredService<IModelRegistry>().ListVersionsAsync("fraud-demo"));
    }

    [Fact]
    public async Task A_model_streams_into_a_file_in_the_registry_folder_while_it_arrives_and_is_registered_from_that_file()
    {
        using var registryFolder = new TempDirectory("mlops-test-registry-");
        var registry = registryFolder.Path;
        await using var node = await TestNode.StartAsync($"--Registry:Path={registry}");
        var onnx = DemoModelBuilder.Build("fraud-demo", seed: 8).OnnxModel;
        var half = onnx.Length / 2;
        var rest = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        using var content = new PausingContent(onnx, half, rest.Task);

        var posting = node.Http.PostAsync(Versions, content);
        // Half the model has arrived, the rest has not been sent: the half is on disk, in the registry's folder.
        await Eventually.HoldsAsync(() => Directory.EnumerateFiles(registry, ".upload-*.tmp").Any(f => new FileInfo(f).Length >= half),
            "the first half of the upload is in a temporary file of the registry", TimeSpan.FromSeconds(30));
        rest.SetResult();
        using var response = await posting;

        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        Assert.Equal(2, (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("version").GetInt32());
        Assert.Empty(Directory.EnumerateFileSystemEntries(registry, ".*", SearchOption.AllDirectories));
        var manifest = await node.App.Services.GetRequiredService<IModelRegistry>().GetManifestAsync("fraud-demo", 2);
        Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(onnx)), manifest.Sha256);
    }

    [Fact]
    public async Task A_multipart_upload_over_128_MiB_is_read_whole_and_judged_on_its_content()
    {
        // Past ASP.NET's 128 MiB form default (uploads were once refused there): the node's limit is Registry:MaxUploadBytes alone.
        using var registryFolder = new TempDirectory("mlops-test-registry-");
        await using var node = await TestNode.StartAsync($"--Registry:Path={registryFolder.Path}");
        const long size = 130L * 1024 * 1024;
        using var content = new MultipartFormDataContent { { new StreamContent(new ZeroStream(size)), "file", "big.onnx" } };

        using var response = await node.Http.PostAsync(Versions, content);

        var body = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.True(response.StatusCode == HttpStatusCode.BadRequest, $"{(int)response.StatusCode} {body}");
        Assert.Contains("ONNX", body.GetProperty("error").GetString());
        Assert.Empty(Directory.EnumerateFileSystemEntries(registryFolder.Path, ".*", SearchOption.AllDirectories));
    }

    [Fact]
    public async Task A_manifest_whose_batching_a_batcher_would_refuse_is_refused_at_registration()
    {
        using var registryFolder = new TempDirectory("mlops-test-registry-");
        await using var node = await TestNode.StartAsync($"--Registry:Path={registryFolder.Path}");
        var onnx = DemoModelBuilder.Build("fraud-demo", seed: 9).OnnxModel;
        using var content = new MultipartFormDataContent
        {
            { new ByteArrayContent(onnx), "file", "model.onnx" },
            { new StringContent("""{"batching":{"max_batch_size":8,"max_queue_size":4}}"""), "manifest" },
        };

        using var response = await node.Http.PostAsync(Versions, content);

        var body = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.True(response.StatusCode == HttpStatusCode.BadRequest, $"{(int)response.StatusCode} {body}");
        Assert.Equal("invalid_manifest", body.GetProperty("code").GetString());
        Assert.Contains("batching:MaxQueueSize must be at least MaxBatchSize (8)", body.GetProperty("error").GetString());
        Assert.Equal([1], await node.App.Services.GetRequiredService<IModelRegistry>().ListVersionsAsync("fraud-demo"));
    }

    /// <summary><paramref name="length"/> zero bytes, read forward only, without holding them in memory.</summary>
    private sealed class ZeroStream(long length) : System.IO.Stream
    {
        private long _position;

        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => length;
        public override long Position { get => _position; set => throw new NotSupportedException(); }

        public override int Read(byte[] buffer, int offset, int count)
        {
            var read = (int)Math.Min(count, length - _position);
            Array.Clear(buffer, offset, read);
            _position += read;
            return read;
        }

        public override void Flush() { }
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }

    /// <summary>Sends the first <paramref name="pauseAt"/> bytes, then waits for <paramref name="resume"/> before the rest (chunked, no length).</summary>
    private sealed class PausingContent(byte[] bytes, int pauseAt, Task resume) : HttpContent
    {
        protected override async Task SerializeToStreamAsync(System.IO.Stream stream, TransportContext? context)
        {
            await stream.WriteAsync(bytes.AsMemory(0, pauseAt));
            await stream.FlushAsync();
            await resume;
            await stream.WriteAsync(bytes.AsMemory(pauseAt));
        }

        protected override bool TryComputeLength(out long length)
        {
            length = 0;
            return false;
        }
    }
}
