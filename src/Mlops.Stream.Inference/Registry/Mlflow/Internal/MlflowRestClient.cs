using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;

namespace Mlops.Stream.Inference.Registry.Mlflow.Internal;

/// <summary>
/// The calls this backend makes to MLflow's REST API (model registry: <c>/api/2.0/mlflow/...</c>;
/// artifact proxy: <c>/api/2.0/mlflow-artifacts/artifacts/...</c>), typed, with MLflow's error bodies
/// turned into <see cref="ModelRegistryException"/>s and every outcome recorded for reachability.
/// GET calls pass their fields as query parameters and the others as a JSON body, as MLflow's
/// server reads them (handlers.py, <c>_get_request_message</c>).
/// </summary>
internal sealed class MlflowRestClient
{
    private const string Registry = "api/2.0/mlflow/";
    private const string Artifacts = "api/2.0/mlflow-artifacts/artifacts";
    private const int ModelsPage = 1000;      // SearchRegisteredModels' documented maximum
    private const int VersionsPage = 10000;   // well below SearchModelVersions' 200,000

    private readonly HttpClient _http;
    private readonly MlflowRegistrySettings _settings;
    private readonly ReachabilityTracker _tracker;

    public MlflowRestClient(HttpClient http, MlflowRegistrySettings settings, ReachabilityTracker tracker)
    {
        _http = http;
        _settings = settings;
        _tracker = tracker;
        // Resolving relative paths keeps a tracking URI's own path (a server behind a proxy at /mlflow/).
        var uri = settings.TrackingUri.AbsoluteUri;
        _http.BaseAddress = new Uri(uri.EndsWith('/') ? uri : uri + "/");
        _http.Timeout = Timeout.InfiniteTimeSpan;   // each call has its own deadline
        if (!string.IsNullOrEmpty(settings.Token))
            _http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", settings.Token);
    }

    public async Task<List<MlflowRegisteredModel>> SearchRegisteredModelsAsync(CancellationToken ct)
    {
        var models = new List<MlflowRegisteredModel>();
        string? token = null;
        do
        {
            var page = await GetAsync("registered-models/search",
                [("max_results", ModelsPage.ToString(System.Globalization.CultureInfo.InvariantCulture)), ("page_token", token)],
                MlflowJsonContext.Default.SearchRegisteredModelsResponse, ct).ConfigureAwait(false);
            models.AddRange(page.RegisteredModels ?? []);
            token = page.NextPageToken;
        } while (!string.IsNullOrEmpty(token));
        return models;
    }

    /// <summary>Every version of <paramref name="model"/>, or of every model when it is null.</summary>
    public async Task<List<MlflowModelVersion>> SearchModelVersionsAsync(string? model, CancellationToken ct)
    {
        var versions = new List<MlflowModelVersion>();
        string? token = null;
        do
        {
            var page = await GetAsync("model-versions/search",
                [("filter", model is null ? null : $"name='{model}'"),
                 ("max_results", VersionsPage.ToString(System.Globalization.CultureInfo.InvariantCulture)), ("page_token", token)],
                MlflowJsonContext.Default.SearchModelVersionsResponse, ct).ConfigureAwait(false);
            versions.AddRange(page.ModelVersions ?? []);
            token = page.NextPageToken;
        } while (!string.IsNullOrEmpty(token));
        return versions;
    }

    public async Task<MlflowRegisteredModel> GetRegisteredModelAsync(string model, CancellationToken ct) =>
        (await GetAsync("registered-models/get", [("name", model)], MlflowJsonContext.Default.RegisteredModelResponse, ct).ConfigureAwait(false))
        .RegisteredModel ?? throw Empty("registered-models/get");

    public async Task<string> GetDownloadUriAsync(string model, int version, CancellationToken ct) =>
        (await GetAsync("model-versions/get-download-uri", [("name", model), ("version", Text(version))],
            MlflowJsonContext.Default.DownloadUriResponse, ct).ConfigureAwait(false)).ArtifactUri
        ?? throw Empty("model-versions/get-download-uri");

    public Task CreateRegisteredModelAsync(string model, CancellationToken ct) =>
        PostAsync("registered-models/create", new CreateRegisteredModelRequest(model), MlflowJsonContext.Default.CreateRegisteredModelRequest, ct);

    public async Task<MlflowModelVersion> CreateModelVersionAsync(CreateModelVersionRequest request, CancellationToken ct)
    {
        using var response = await SendAsync("model-versions/create", () => Json(HttpMethod.Post, Registry + "model-versions/create", request,
            MlflowJsonContext.Default.CreateModelVersionRequest), _settings.RequestTimeout, ct).ConfigureAwait(false);
        return (await ReadAsync(response, MlflowJsonContext.Default.ModelVersionResponse, "model-versions/create", ct).ConfigureAwait(false)).ModelVersion
            ?? throw Empty("model-versions/create");
    }

    public Task SetAliasAsync(string model, string alias, int version, CancellationToken ct) =>
        PostAsync("registered-models/alias", new SetAliasRequest(model, alias, Text(version)), MlflowJsonContext.Default.SetAliasRequest, ct);

    public Task DeleteAliasAsync(string model, string alias, CancellationToken ct) =>
        SendJsonAsync(HttpMethod.Delete, "registered-models/alias", new DeleteAliasRequest(model, alias), MlflowJsonContext.Default.DeleteAliasRequest, ct);

    public Task SetRegisteredModelTagAsync(string model, string key, string value, CancellationToken ct) =>
        PostAsync("registered-models/set-tag", new SetRegisteredModelTagRequest(model, key, value), MlflowJsonContext.Default.SetRegisteredModelTagRequest, ct);

    public Task DeleteRegisteredModelTagAsync(string model, string key, CancellationToken ct) =>
        SendJsonAsync(HttpMethod.Delete, "registered-models/delete-tag", new DeleteRegisteredModelTagRequest(model, key),
            MlflowJsonContext.Default.DeleteRegisteredModelTagRequest, ct);

    public Task SetModelVersionTagAsync(string model, int version, string key, string value, CancellationToken ct) =>
        PostAsync("model-versions/set-tag", new SetModelVersionTagRequest(model, Text(version), key, value), MlflowJsonContext.Default.SetModelVersionTagRequest, ct);

    public Task DeleteModelVersionTagAsync(string model, int version, string key, CancellationToken ct) =>
        SendJsonAsync(HttpMethod.Delete, "model-versions/delete-tag", new DeleteModelVersionTagRequest(model, Text(version), key),
            MlflowJsonContext.Default.DeleteModelVersionTagRequest, ct);

    public Task TransitionStageAsync(string model, int version, string stage, bool archiveExisting, CancellationToken ct) =>
        PostAsync("model-versions/transition-stage", new TransitionStageRequest(model, Text(version), stage, archiveExisting),
            MlflowJsonContext.Default.TransitionStageRequest, ct);

    /// <summary>The files directly in <paramref name="path"/> of the artifact proxy (names only, as MLflow answers them); empty when there are none.</summary>
    public async Task<List<MlflowFileInfo>> ListArtifactsAsync(string path, CancellationToken ct)
    {
        using var response = await SendAsync("mlflow-artifacts list", () => new HttpRequestMessage(HttpMethod.Get, Artifacts + Query([("path", path)])),
            _settings.RequestTimeout, ct).ConfigureAwait(false);
        return (await ReadAsync(response, MlflowJsonContext.Default.ListArtifactsResponse, "mlflow-artifacts list", ct).ConfigureAwait(false)).Files ?? [];
    }

    /// <summary>Streams the artifact at <paramref name="path"/> into <paramref name="consume"/>, within the transfer timeout.</summary>
    public async Task<T> DownloadAsync<T>(string path, Func<System.IO.Stream, CancellationToken, Task<T>> consume, CancellationToken ct)
    {
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(ct);
        deadline.CancelAfter(_settings.TransferTimeout);
        using var response = await SendAsync($"mlflow-artifacts download of '{path}'",
            () => new HttpRequestMessage(HttpMethod.Get, ArtifactUri(path)), _settings.TransferTimeout, deadline.Token,
            HttpCompletionOption.ResponseHeadersRead).ConfigureAwait(false);
        try
        {
            await using var body = await response.Content.ReadAsStreamAsync(deadline.Token).ConfigureAwait(false);
            return await consume(body, deadline.Token).ConfigureAwait(false);
        }
        catch (Exception e) when (e is HttpRequestException or IOException || e is OperationCanceledException && !ct.IsCancellationRequested)
        {
            _tracker.Failed(e.Message);
            throw MlflowErrors.Unreachable(_settings.TrackingUri, $"download of '{path}'", e);
        }
    }

    /// <summary>PUTs <paramref name="content"/> to <paramref name="path"/> of the artifact proxy, streamed.</summary>
    public async Task UploadAsync(string path, System.IO.Stream content, CancellationToken ct)
    {
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(ct);
        deadline.CancelAfter(_settings.TransferTimeout);
        using var response = await SendAsync($"mlflow-artifacts upload of '{path}'", () => new HttpRequestMessage(HttpMethod.Put, ArtifactUri(path))
        {
            Content = new StreamContent(content) { Headers = { ContentType = new MediaTypeHeaderValue("application/octet-stream") } },
        }, _settings.TransferTimeout, deadline.Token).ConfigureAwait(false);
    }

    private static string ArtifactUri(string path) => Artifacts + "/" + string.Join('/', path.Split('/').Select(Uri.EscapeDataString));

    private async Task<T> GetAsync<T>(string call, (string Name, string? Value)[] query, JsonTypeInfo<T> type, CancellationToken ct)
    {
        using var response = await SendAsync(call, () => new HttpRequestMessage(HttpMethod.Get, Registry + call + Query(query)), _settings.RequestTimeout, ct)
            .ConfigureAwait(false);
        return await ReadAsync(response, type, call, ct).ConfigureAwait(false);
    }

    private Task PostAsync<TRequest>(string call, TRequest body, JsonTypeInfo<TRequest> type, CancellationToken ct) =>
        SendJsonAsync(HttpMethod.Post, call, body, type, ct);

    private async Task SendJsonAsync<TRequest>(HttpMethod method, string call, TRequest body, JsonTypeInfo<TRequest> type, CancellationToken ct)
    {
        using var response = await SendAsync(call, () => Json(method, Registry + call, body, type), _settings.RequestTimeout, ct).ConfigureAwait(false);
    }

    private static HttpRequestMessage Json<TRequest>(HttpMethod method, string uri, TRequest body, JsonTypeInfo<TRequest> type) =>
        new(method, uri) { Content = JsonContent.Create(body, type) };

    private static string Query((string Name, string? Value)[] parameters)
    {
        var present = parameters.Where(p => p.Value is not null).Select(p => $"{p.Name}={Uri.EscapeDataString(p.Value!)}").ToList();
        return present.Count == 0 ? "" : "?" + string.Join('&', present);
    }

    /// <summary>
    /// One call within <paramref name="timeout"/>. An answer below 500 counts as MLflow reachable;
    /// a refused connection, a timeout, a 5xx or 429 (and a refused token) as unreachable.
    /// </summary>
    private async Task<HttpResponseMessage> SendAsync(string call, Func<HttpRequestMessage> request, TimeSpan timeout, CancellationToken ct,
        HttpCompletionOption completion = HttpCompletionOption.ResponseContentRead)
    {
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(ct);
        deadline.CancelAfter(timeout);
        HttpResponseMessage response;
        try
        {
            using var message = request();
            response = await _http.SendAsync(message, completion, deadline.Token).ConfigureAwait(false);
        }
        catch (Exception e) when (e is HttpRequestException or IOException || e is OperationCanceledException && !ct.IsCancellationRequested)
        {
            var error = MlflowErrors.Unreachable(_settings.TrackingUri, call, e is OperationCanceledException ? new TimeoutException($"no answer within {timeout}") : e);
            _tracker.Failed(error.Message);
            throw error;
        }

        if (response.IsSuccessStatusCode)
        {
            _tracker.Answered();
            return response;
        }

        using (response)
        {
            var body = await ReadTextAsync(response, ct).ConfigureAwait(false);
            var error = MlflowErrors.FromAnswer(call, response.StatusCode, body);
            if (error.Error == ModelRegistryError.Unavailable) _tracker.Failed(error.Message);
            else _tracker.Answered();
            throw error;
        }
    }

    private async Task<T> ReadAsync<T>(HttpResponseMessage response, JsonTypeInfo<T> type, string call, CancellationToken ct)
    {
        var body = await ReadTextAsync(response, ct).ConfigureAwait(false);
        try
        {
            // MLflow answers "{}" for an empty message: every field is optional.
            return JsonSerializer.Deserialize(string.IsNullOrWhiteSpace(body) ? "{}" : body, type) ?? throw new JsonException("null");
        }
        catch (JsonException e)
        {
            throw new ModelRegistryException(ModelRegistryError.Corrupt, $"MLflow {call}: the answer is not the JSON MLflow's REST API documents: {e.Message}", e);
        }
    }

    private static async Task<string> ReadTextAsync(HttpResponseMessage response, CancellationToken ct)
    {
        try
        {
            return await response.Content.ReadAsStringAsync(ct).ConfigureAwait(false);
        }
        catch (Exception e) when (e is HttpRequestException or IOException)
        {
            return "";
        }
    }

    private static ModelRegistryException Empty(string call) =>
        new(ModelRegistryError.Corrupt, $"MLflow {call}: the answer lacks the object MLflow's REST API documents");

    private static string Text(int version) => version.ToString(System.Globalization.CultureInfo.InvariantCulture);
}
