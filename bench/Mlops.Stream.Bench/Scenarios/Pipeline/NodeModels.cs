using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Mlops.Stream.Bench.Cluster;
using Mlops.Stream.Inference.Registry;

namespace Mlops.Stream.Bench.Scenarios.Pipeline;

/// <summary>
/// The node's models as an operator drives them through the admin API: undeploy (the replica stops
/// consuming, so a backlog can build up), deploy, and register + promote a twin of a model (the same
/// ONNX file under another name with other batching hints), each waiting until the node has done it.
/// </summary>
public sealed class NodeModels(LocalCluster cluster)
{
    private static readonly TimeSpan Timeout = TimeSpan.FromMinutes(2);
    private const string AssignedMetric = "mlops_kafka_assigned_partitions";

    private HttpClient Http => cluster.Http[0];

    /// <summary>Stops serving <paramref name="model"/> and waits until its replica holds no partition.</summary>
    public async Task UndeployAsync(string model)
    {
        await PostAsync($"/api/v1/models/{model}/undeploy", null);
        await WaitAsync(model, "not_serving", assigned: 0);
    }

    /// <summary>Serves <paramref name="model"/> again and waits until its replica is ready and consumes all <paramref name="partitions"/>.</summary>
    public async Task DeployAsync(string model, int partitions)
    {
        await PostAsync($"/api/v1/models/{model}/deploy", null);
        await WaitAsync(model, "ready", assigned: partitions);
    }

    /// <summary>Waits until <paramref name="model"/> is ready and its replica consumes all <paramref name="partitions"/>.</summary>
    public Task WaitServingAsync(string model, int partitions) => WaitAsync(model, "ready", assigned: partitions);

    /// <summary>Starts the deploy and returns at once (the drain measures from the first prediction).</summary>
    public Task StartDeployAsync(string model) => PostAsync($"/api/v1/models/{model}/deploy", null);

    /// <summary>
    /// Registers the ONNX file of <paramref name="source"/> version 1 as <paramref name="twin"/> with
    /// the given <c>batching</c> manifest hints, as <c>mlops models register</c> does, then promotes it
    /// and waits until it serves.
    /// </summary>
    public async Task RegisterTwinAsync(string source, string twin, object batching, int partitions) =>
        await RegisterAsync(twin, await ReadOnnxAsync(source), batching, $"{source} version 1 under another name, for the pipeline bench", partitions);

    /// <summary>Version 1's ONNX file of <paramref name="model"/>, as the registry holds it.</summary>
    public Task<byte[]> ReadOnnxAsync(string model) =>
        File.ReadAllBytesAsync(Path.Combine(cluster.RegistryPath, model, "1", FolderModelRegistry.ModelFileName));

    /// <summary>
    /// Registers <paramref name="onnx"/> (the demo model's contract) as version 1 of <paramref name="model"/>
    /// with the given <c>batching</c> manifest hints, promotes it and waits until it serves.
    /// </summary>
    public async Task RegisterAsync(string model, byte[] onnx, object batching, string description, int partitions)
    {
        var manifest = JsonSerializer.Serialize(new
        {
            description,
            batching,
            sample_request = JsonDocument.Parse(DemoRequests.Body("sample")).RootElement,
        });
        using var form = new MultipartFormDataContent();
        var file = new ByteArrayContent(onnx);
        file.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
        form.Add(file, "file", "model.onnx");
        form.Add(new StringContent(manifest, Encoding.UTF8, "application/json"), "manifest", "manifest.json");
        await PostAsync($"/api/v1/models/{model}/versions", form);
        await PostAsync($"/api/v1/models/{model}/promote?wait_seconds=60", JsonContent.Create(new { version = 1 }));
        await WaitAsync(model, "ready", assigned: partitions);
    }

    /// <summary>Whether the registry knows <paramref name="model"/>.</summary>
    public async Task<bool> ExistsAsync(string model)
    {
        using var response = await Http.GetAsync($"/api/v1/models/{model}");
        return response.IsSuccessStatusCode;
    }

    private async Task PostAsync(string path, HttpContent? content)
    {
        using var response = await Http.PostAsync(path, content);
        if (!response.IsSuccessStatusCode)
            throw new InvalidOperationException($"POST {path}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
    }

    private async Task WaitAsync(string model, string state, int assigned)
    {
        var deadline = DateTime.UtcNow + Timeout;
        var last = "";
        while (DateTime.UtcNow < deadline)
        {
            try
            {
                var summary = await Http.GetFromJsonAsync<JsonElement>($"/api/v1/models/{model}");
                last = summary.GetProperty("state").GetString() ?? "";
                if (last == state && await cluster.MetricAsync(0, AssignedMetric, ("model", model)) == assigned) return;
            }
            catch (HttpRequestException)
            {
                // Not known yet (404 right after registering): ask again.
            }
            await Task.Delay(100);
        }
        throw new TimeoutException($"{model} did not reach state {state} with {assigned} assigned partitions within {Timeout} (last state: {last})");
    }
}
