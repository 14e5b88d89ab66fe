using System.Collections.Concurrent;
using System.Net;
using System.Security.Cryptography;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Mlops.Stream.Host.Tests.Mlflow;

/// <summary>
/// An MLflow tracking server in the test process (loopback, port 0), implementing exactly the REST
/// endpoints the MLflow registry backend calls, with the request and answer shapes of MLflow's REST
/// API reference (mlflow/protos/model_registry.proto, mlflow_artifacts.proto) and the server's
/// behaviour in mlflow/server/handlers.py: GET fields as query parameters, other methods a JSON
/// body (Content-Type application/json required for POST), version numbers as strings, int64s as
/// numbers, empty lists left out, errors as <c>{"error_code", "message"}</c> with MLflow's statuses
/// (RESOURCE_DOES_NOT_EXIST 404, RESOURCE_ALREADY_EXISTS and INVALID_PARAMETER_VALUE 400). It can be
/// stopped and started again on the same port with its state, like a server that goes down.
/// </summary>
public sealed class FakeMlflow : IAsyncDisposable
{
    private const string Registry = "/api/2.0/mlflow";
    private const string ArtifactsRoute = "/api/2.0/mlflow-artifacts/artifacts";
    private readonly object _gate = new();
    private readonly Dictionary<string, RegisteredModel> _models = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, byte[]> _artifacts = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, int> _downloads = new(StringComparer.Ordinal);
    private readonly ConcurrentQueue<string> _writes = new();
    private WebApplication? _app;
    private int _port;
    private long _clock = 1_700_000_000_000;

    private FakeMlflow(bool supportsAliases, string? token)
    {
        SupportsAliases = supportsAliases;
        Token = token;
    }

    /// <summary>False: a server from before aliases (MLflow below 2.3): no alias endpoints, no aliases in answers.</summary>
    public bool SupportsAliases { get; }

    /// <summary>When set, every call must carry <c>Authorization: Bearer</c> with it (401 otherwise).</summary>
    public string? Token { get; }

    public Uri Address => new($"http://127.0.0.1:{_port}/");

    /// <summary>Registry writes received, as "METHOD path", in order.</summary>
    public IReadOnlyCollection<string> Writes => _writes;

    public static async Task<FakeMlflow> StartAsync(bool supportsAliases = true, string? token = null)
    {
        var fake = new FakeMlflow(supportsAliases, token);
        await fake.StartAsync();
        return fake;
    }

    /// <summary>Starts serving (again, on the port it had, with the state it had).</summary>
    public async Task StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls($"http://127.0.0.1:{_port}");
        var app = builder.Build();
        Map(app);
        await app.StartAsync();
        _port = new Uri(app.Services.GetRequiredService<IServer>().Features.GetRequiredFeature<IServerAddressesFeature>().Addresses.Single()).Port;
        _app = app;
    }

    /// <summary>Stops answering: connections are refused until <see cref="StartAsync()"/>.</summary>
    public async Task StopAsync()
    {
        if (_app is not { } app) return;
        _app = null;
        await app.StopAsync();
        await app.DisposeAsync();
    }

    public async ValueTask DisposeAsync() => await StopAsync();

    /// <summary>
    /// Logs a model the way <c>mlflow.onnx.log_model</c> and registration do: the files in a run's
    /// artifact folder (an MLmodel naming the ONNX file when <paramref name="mlmodel"/>), a new model
    /// version whose source is that folder, tagged with the file's sha256 (or <paramref name="sha256Tag"/>).
    /// </summary>
    public int LogModel(string model, byte[] onnx, string? manifestJson = null, bool mlmodel = true, string? sha256Tag = null, bool tagSha256 = true,
        string onnxFileName = "model.onnx", IReadOnlyDictionary<string, byte[]>? extraFiles = null)
    {
        var folder = $"1/{Guid.NewGuid():N}/artifacts/model";
        _artifacts[$"{folder}/{onnxFileName}"] = onnx;
        if (mlmodel)
            _artifacts[$"{folder}/MLmodel"] = System.Text.Encoding.UTF8.GetBytes(
                $"artifact_path: model\nflavors:\n  onnx:\n    code: null\n    data: {onnxFileName}\n    onnx_version: 1.17.0\n    providers:\n    - CPUExecutionProvider\n" +
                "  python_function:\n    data: " + onnxFileName + "\n    env:\n      conda: conda.yaml\n    loader_module: mlflow.onnx\nmlflow_version: 2.16.2\n");
        if (manifestJson is not null) _artifacts[$"{folder}/mlops_manifest.json"] = System.Text.Encoding.UTF8.GetBytes(manifestJson);
        foreach (var (name, bytes) in extraFiles ?? new Dictionary<string, byte[]>()) _artifacts[$"{folder}/{name}"] = bytes;
        lock (_gate)
        {
            var registered = Model(model, create: true)!;
            var version = new ModelVersion(model, registered.Versions.Count + 1, Now(), $"mlflow-artifacts:/{folder}");
            if (tagSha256) version.Tags["mlops.sha256"] = sha256Tag ?? Convert.ToHexStringLower(SHA256.HashData(onnx));
            registered.Versions.Add(version);
            return version.Number;
        }
    }

    public void SetAlias(string model, string alias, int version)
    {
        lock (_gate) Model(model)!.Aliases[alias] = version;
    }

    public int? AliasOf(string model, string alias)
    {
        lock (_gate) return Model(model)?.Aliases.TryGetValue(alias, out var version) == true ? version : null;
    }

    public void SetVersionTag(string model, int version, string key, string value)
    {
        lock (_gate) Model(model)!.Versions[version - 1].Tags[key] = value;
    }

    public string? VersionTag(string model, int version, string key)
    {
        lock (_gate) return Model(model)?.Versions[version - 1].Tags.GetValueOrDefault(key);
    }

    public string? ModelTag(string model, string key)
    {
        lock (_gate) return Model(model)?.Tags.GetValueOrDefault(key);
    }

    public void SetModelTag(string model, string key, string value)
    {
        lock (_gate) Model(model)!.Tags[key] = value;
    }

    public void SetStage(string model, int version, string stage)
    {
        lock (_gate) Model(model)!.Versions[version - 1].Stage = stage;
    }

    public string? StageOf(string model, int version)
    {
        lock (_gate) return Model(model)?.Versions[version - 1].Stage;
    }

    public string? SourceOf(string model, int version)
    {
        lock (_gate) return Model(model)?.Versions[version - 1].Source;
    }

    /// <summary>How often the artifact at <paramref name="suffix"/> (a path ending) was downloaded.</summary>
    public int DownloadsOf(string suffix) => _downloads.Where(d => d.Key.EndsWith(suffix, StringComparison.Ordinal)).Sum(d => d.Value);

    public byte[]? Artifact(string path) => _artifacts.GetValueOrDefault(path);

    private RegisteredModel? Model(string name, bool create = false)
    {
        if (_models.TryGetValue(name, out var model)) return model;
        if (!create) return null;
        return _models[name] = new RegisteredModel(name, Now());
    }

    private long Now() => Interlocked.Add(ref _clock, 1000);

    private void Map(WebApplication app)
    {
        app.Use(async (context, next) =>
        {
            if (Token is not null && context.Request.Headers.Authorization.ToString() != $"Bearer {Token}")
            {
                await Error(context, HttpStatusCode.Unauthorized, "UNAUTHENTICATED", "You are not authenticated. Please provide a valid token.");
                return;
            }
            if (context.Request.Method != "GET" && context.Request.Path.StartsWithSegments(Registry))
            {
                if (context.Request.Method == "POST" && context.Request.ContentType?.Split(';')[0].Trim() != "application/json")
                {
                    await Error(context, HttpStatusCode.BadRequest, "BAD_REQUEST", $"Bad Request. Content-Type must be one of ['application/json'].");
                    return;
                }
                _writes.Enqueue($"{context.Request.Method} {context.Request.Path}");
            }
            await next(context);
        });

        app.MapGet(Registry + "/registered-models/search", (HttpContext c) => Locked(() =>
        {
            var all = _models.Values.OrderBy(m => m.Name, StringComparer.Ordinal).ToList();
            return Page(c, all, 100, "registered_models", m => ModelJson(m));
        }));
        app.MapGet(Registry + "/registered-models/get", (HttpContext c) => Locked(() =>
            Model(Query(c, "name")) is { } model ? Json(new JsonObject { ["registered_model"] = ModelJson(model) }) : NoModel(Query(c, "name"))));
        app.MapPost(Registry + "/registered-models/create", async (HttpContext c) =>
        {
            var body = await BodyAsync(c);
            return Locked(() =>
            {
                var name = (string?)body["name"];
                if (string.IsNullOrEmpty(name)) return Invalid("Missing value for required parameter 'name'.");
                if (_models.ContainsKey(name)) return Fail(HttpStatusCode.BadRequest, "RESOURCE_ALREADY_EXISTS", $"Registered Model (name={name}) already exists.");
                return Json(new JsonObject { ["registered_model"] = ModelJson(Model(name, create: true)!) });
            });
        });
        app.MapPost(Registry + "/registered-models/set-tag", async (HttpContext c) =>
        {
            var body = await BodyAsync(c);
            return Locked(() => Model((string)body["name"]!) is { } model ? Done(() => model.Tags[(string)body["key"]!] = (string)body["value"]!) : NoModel((string)body["name"]!));
        });
        app.MapDelete(Registry + "/registered-models/delete-tag", async (HttpContext c) =>
        {
            var body = await BodyAsync(c);
            return Locked(() => Model((string)body["name"]!) is { } model ? Done(() => model.Tags.Remove((string)body["key"]!)) : NoModel((string)body["name"]!));
        });
        if (SupportsAliases)
        {
            app.MapGet(Registry + "/registered-models/alias", (HttpContext c) => Locked(() =>
            {
                var (name, alias) = (Query(c, "name"), Query(c, "alias"));
                if (Model(name) is not { } model) return NoModel(name);
                return model.Aliases.TryGetValue(alias, out var version)
                    ? Json(new JsonObject { ["model_version"] = VersionJson(model, model.Versions[version - 1]) })
                    : Fail(HttpStatusCode.NotFound, "RESOURCE_DOES_NOT_EXIST", $"Registered model alias {alias} not found.");
            }));
            app.MapPost(Registry + "/registered-models/alias", async (HttpContext c) =>
            {
                var body = await BodyAsync(c);
                return Locked(() =>
                {
                    var name = (string)body["name"]!;
                    if (Model(name) is not { } model) return NoModel(name);
                    var version = int.Parse((string)body["version"]!, System.Globalization.CultureInfo.InvariantCulture);
                    if (version < 1 || version > model.Versions.Count) return NoVersion(name, version);
                    return Done(() => model.Aliases[(string)body["alias"]!] = version);
                });
            });
            app.MapDelete(Registry + "/registered-models/alias", async (HttpContext c) =>
            {
                var body = await BodyAsync(c);
                return Locked(() => Model((string)body["name"]!) is { } model ? Done(() => model.Aliases.Remove((string)body["alias"]!)) : NoModel((string)body["name"]!));
            });
        }
        app.MapGet(Registry + "/model-versions/search", (HttpContext c) => Locked(() =>
        {
            var filter = c.Request.Query["filter"].ToString();
            var only = filter.Length == 0 ? null : filter.StartsWith("name='", StringComparison.Ordinal) && filter.EndsWith('\'') ? filter[6..^1] : "\0";
            if (only == "\0") return Invalid($"Invalid filter string: {filter}");
            var all = _models.Values.Where(m => only is null || m.Name == only).OrderBy(m => m.Name, StringComparer.Ordinal)
                .SelectMany(m => m.Versions.Select(v => (m, v))).ToList();
            return Page(c, all, 10000, "model_versions", p => VersionJson(p.m, p.v));
        }));
        app.MapGet(Registry + "/model-versions/get-download-uri", (HttpContext c) => Locked(() =>
            WithVersion(Query(c, "name"), Query(c, "version"), (_, v) => Json(new JsonObject { ["artifact_uri"] = v.Source }))));
        app.MapPost(Registry + "/model-versions/create", async (HttpContext c) =>
        {
            var body = await BodyAsync(c);
            return Locked(() =>
            {
                var name = (string)body["name"]!;
                if (Model(name) is not { } model) return NoModel(name);
                var source = (string?)body["source"];
                if (string.IsNullOrEmpty(source)) return Invalid("Missing value for required parameter 'source'.");
                var version = new ModelVersion(name, model.Versions.Count + 1, Now(), source);
                foreach (var tag in body["tags"]?.AsArray() ?? []) version.Tags[(string)tag!["key"]!] = (string)tag["value"]!;
                model.Versions.Add(version);
                return Json(new JsonObject { ["model_version"] = VersionJson(model, version) });
            });
        });
        app.MapPost(Registry + "/model-versions/set-tag", async (HttpContext c) =>
        {
            var body = await BodyAsync(c);
            return Locked(() => WithVersion((string)body["name"]!, (string)body["version"]!, (_, v) => Done(() => v.Tags[(string)body["key"]!] = (string)body["value"]!)));
        });
        app.MapDelete(Registry + "/model-versions/delete-tag", async (HttpContext c) =>
        {
            var body = await BodyAsync(c);
            return Locked(() => WithVersion((string)body["name"]!, (string)body["version"]!, (_, v) => Done(() => v.Tags.Remove((string)body["key"]!))));
        });
        app.MapPost(Registry + "/model-versions/transition-stage", async (HttpContext c) =>
        {
            var body = await BodyAsync(c);
            return Locked(() => WithVersion((string)body["name"]!, (string)body["version"]!, (model, version) =>
            {
                var stage = (string)body["stage"]!;
                if (stage is not ("None" or "Staging" or "Production" or "Archived")) return Invalid($"Invalid Model Version stage: {stage}.");
                if (body["archive_existing_versions"]?.GetValue<bool>() == true && stage is "Staging" or "Production")
                    foreach (var other in model.Versions.Where(o => o != version && o.Stage == stage)) other.Stage = "Archived";
                version.Stage = stage;
                return Json(new JsonObject { ["model_version"] = VersionJson(model, version) });
            }));
        });

        app.MapGet(ArtifactsRoute, (HttpContext c) =>
        {
            var path = c.Request.Query["path"].ToString().Trim('/');
            var prefix = path.Length == 0 ? "" : path + "/";
            var entries = _artifacts.Keys.Where(k => k.StartsWith(prefix, StringComparison.Ordinal))
                .Select(k => k[prefix.Length..]).GroupBy(rest => rest.Split('/')[0]).OrderBy(g => g.Key, StringComparer.Ordinal)
                .Select(g => g.Any(rest => rest.Contains('/'))
                    ? new JsonObject { ["path"] = g.Key, ["is_dir"] = true }
                    : new JsonObject { ["path"] = g.Key, ["is_dir"] = false, ["file_size"] = _artifacts[prefix + g.Key].Length })
                .ToList();
            var answer = new JsonObject();
            if (entries.Count > 0) answer["files"] = new JsonArray([.. entries]);
            return Json(answer);
        });
        app.MapGet(ArtifactsRoute + "/{**path}", (string path) =>
        {
            if (!_artifacts.TryGetValue(path, out var bytes)) return Fail(HttpStatusCode.NotFound, "RESOURCE_DOES_NOT_EXIST", $"File {path} does not exist.");
            _downloads.AddOrUpdate(path, 1, (_, n) => n + 1);
            return Results.File(bytes, "application/octet-stream", Path.GetFileName(path));
        });
        app.MapPut(ArtifactsRoute + "/{**path}", async (string path, HttpContext c) =>
        {
            using var buffer = new MemoryStream();
            await c.Request.Body.CopyToAsync(buffer);
            _artifacts[path] = buffer.ToArray();
            _writes.Enqueue($"PUT {ArtifactsRoute}/{path}");
            return Json(new JsonObject());
        });
    }

    private IResult Locked(Func<IResult> answer)
    {
        lock (_gate) return answer();
    }

    private static IResult Done(Action change)
    {
        change();
        return Json(new JsonObject());
    }

    private IResult WithVersion(string name, string versionText, Func<RegisteredModel, ModelVersion, IResult> answer)
    {
        if (Model(name) is not { } model) return NoModel(name);
        if (!int.TryParse(versionText, out var version)) return Invalid($"Parameter 'version' must be an integer, got '{versionText}'.");
        return version >= 1 && version <= model.Versions.Count ? answer(model, model.Versions[version - 1]) : NoVersion(name, version);
    }

    private static IResult Page<T>(HttpContext c, List<T> all, int defaultMax, string field, Func<T, JsonNode> json)
    {
        var max = int.TryParse(c.Request.Query["max_results"], out var m) ? m : defaultMax;
        var offset = int.TryParse(c.Request.Query["page_token"], out var o) ? o : 0;
        var page = all.Skip(offset).Take(max).ToList();
        var answer = new JsonObject();
        if (page.Count > 0) answer[field] = new JsonArray([.. page.Select(json)]);
        if (offset + max < all.Count) answer["next_page_token"] = (offset + max).ToString(System.Globalization.CultureInfo.InvariantCulture);
        return Json(answer);
    }

    private JsonObject ModelJson(RegisteredModel model)
    {
        var json = new JsonObject
        {
            ["name"] = model.Name,
            ["creation_timestamp"] = model.Created,
            ["last_updated_timestamp"] = model.Created,
        };
        var latest = model.Versions.GroupBy(v => v.Stage).Select(g => g.MaxBy(v => v.Number)!).OrderBy(v => v.Number).ToList();
        if (latest.Count > 0) json["latest_versions"] = new JsonArray([.. latest.Select(v => VersionJson(model, v))]);
        if (model.Tags.Count > 0) json["tags"] = Tags(model.Tags);
        if (SupportsAliases && model.Aliases.Count > 0)
            json["aliases"] = new JsonArray([.. model.Aliases.Select(a => new JsonObject { ["alias"] = a.Key, ["version"] = a.Value.ToString(System.Globalization.CultureInfo.InvariantCulture) })]);
        return json;
    }

    private JsonObject VersionJson(RegisteredModel model, ModelVersion version)
    {
        var json = new JsonObject
        {
            ["name"] = version.Name,
            ["version"] = version.Number.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["creation_timestamp"] = version.Created,
            ["last_updated_timestamp"] = version.Created,
            ["current_stage"] = version.Stage,
            ["description"] = "",
            ["source"] = version.Source,
            ["run_id"] = "",
            ["status"] = version.Status,
        };
        if (version.Tags.Count > 0) json["tags"] = Tags(version.Tags);
        var aliases = model.Aliases.Where(a => a.Value == version.Number).Select(a => (JsonNode)JsonValue.Create(a.Key)!).ToArray();
        if (SupportsAliases && aliases.Length > 0) json["aliases"] = new JsonArray(aliases);
        return json;
    }

    private static JsonArray Tags(Dictionary<string, string> tags) =>
        new([.. tags.Select(t => new JsonObject { ["key"] = t.Key, ["value"] = t.Value })]);

    private static string Query(HttpContext c, string name) => c.Request.Query[name].ToString();

    private static async Task<JsonObject> BodyAsync(HttpContext c) => (await JsonNode.ParseAsync(c.Request.Body))?.AsObject() ?? [];

    private static IResult Json(JsonNode node) => Results.Text(node.ToJsonString(), "application/json");

    private static IResult NoModel(string name) => Fail(HttpStatusCode.NotFound, "RESOURCE_DOES_NOT_EXIST", $"Registered Model with name={name} not found");

    private static IResult NoVersion(string name, int version) =>
        Fail(HttpStatusCode.NotFound, "RESOURCE_DOES_NOT_EXIST", $"Model Version (name={name}, version={version}) not found");

    private static IResult Invalid(string message) => Fail(HttpStatusCode.BadRequest, "INVALID_PARAMETER_VALUE", message);

    private static IResult Fail(HttpStatusCode status, string code, string message) =>
        Results.Text(new JsonObject { ["error_code"] = code, ["message"] = message }.ToJsonString(), "application/json", statusCode: (int)status);

    private static Task Error(HttpContext context, HttpStatusCode status, string code, string message)
    {
        context.Response.StatusCode = (int)status;
        context.Response.ContentType = "application/json";
        return context.Response.WriteAsync(new JsonObject { ["error_code"] = code, ["message"] = message }.ToJsonString());
    }

    private sealed class RegisteredModel(string name, long created)
    {
        public string Name { get; } = name;
        public long Created { get; } = created;
        public Dictionary<string, string> Tags { get; } = new(StringComparer.Ordinal);
        public Dictionary<string, int> Aliases { get; } = new(StringComparer.Ordinal);
        public List<ModelVersion> Versions { get; } = [];
    }

    private sealed class ModelVersion(string name, int number, long created, string source)
    {
        public string Name { get; } = name;
        public int Number { get; } = number;
        public long Created { get; } = created;
        public string Source { get; } = source;
        public string Stage { get; set; } = "None";
        public string Status { get; } = "READY";
        public Dictionary<string, string> Tags { get; } = new(StringComparer.Ordinal);
    }
}
