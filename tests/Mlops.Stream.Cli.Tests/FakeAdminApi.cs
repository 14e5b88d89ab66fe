using System.Collections.Concurrent;
using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace Mlops.Stream.Cli.Tests;

/// <summary>One request as the fake admin API received it.</summary>
public sealed record ReceivedRequest(
    string Method,
    string Path,
    string Query,
    string? Authorization,
    string? ContentType,
    string Body,
    IReadOnlyDictionary<string, byte[]> Files);

/// <summary>
/// A real Kestrel app on 127.0.0.1:0 that answers the admin API's routes with canned JSON in the
/// node's shapes (ModelSummary, AdminChangeResponse, AuditEvent, ErrorResponse) and records every
/// request. Model names pick the canned answer: <c>ghost</c> is unknown (404), <c>fresh</c> has
/// nothing to roll back to (409), <c>exploding</c> fails (500), <c>slow</c> never answers; on
/// promote, <c>refusing</c> is refused by its replica (409) and <c>loading</c> does not serve in time (202). The key
/// <c>wrong-key</c> is refused with 401 like the node's invalid_key.
/// </summary>
public sealed partial class FakeAdminApi : IAsyncLifetime
{
    public const string WrongKey = "wrong-key";

    public const string ModelsJson = """
        [{"name":"churn","versions":[1],"production_version":null,"serving_version":null,"state":"not_serving","reason":null},{"name":"fraud-demo","versions":[1,2,3],"production_version":2,"serving_version":2,"state":"ready","reason":null,"loaded":true,"pinned":true}]
        """;

    public const string ModelCacheJson = """
        {"budget_bytes":2147483648,"max_loaded":null,"loaded":10,"loaded_bytes":44040192,"replicas":50,"pinned":1,"loads":120,"evictions":110,"waiting_loads":0,"peak_loaded":10,"peak_loaded_bytes":44040192,"models":[]}
        """;

    public const string AuditJson = """
        [{"id":"a2","timestamp":"2026-11-24T09:50:00+00:00","actor":"MLOPS_ADMIN_KEY","action":"promote","model":"fraud-demo","version":2,"result":"done","detail":"production=2, previous=1"},{"id":"a1","timestamp":"2026-11-24T09:49:00+00:00","actor":"anonymous","action":"rollback","model":"fresh","version":null,"result":"conflict","detail":null}]
        """;

    /// <summary>Where the recording middleware leaves the request body for the routes (it has read the stream).</summary>
    internal const string BodyKey = "recorded-body";
    private WebApplication? _app;

    public ConcurrentQueue<ReceivedRequest> Requests { get; } = new();

    public string Url { get; private set; } = "";

    /// <summary>The last request whose path ends with <paramref name="pathSuffix"/>.</summary>
    public ReceivedRequest Last(string pathSuffix) =>
        Requests.LastOrDefault(r => r.Path.EndsWith(pathSuffix, StringComparison.Ordinal))
        ?? throw new Xunit.Sdk.XunitException($"no request to ...{pathSuffix}; received: {string.Join(", ", Requests.Select(r => r.Path))}");

    public async Task InitializeAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        var app = builder.Build();

        app.Use(async (http, next) =>
        {
            await Record(http);
            if (http.Request.Headers.Authorization.ToString() == $"Bearer {WrongKey}")
            {
                http.Response.Headers.WWWAuthenticate = "Bearer error=\"invalid_token\"";
                await Json(http, 401, """{"error":"the bearer key matches no configured key","code":"invalid_key"}""");
                return;
            }
            await next(http);
        });

        app.MapGet("/api/v1/models", (HttpContext http) => Json(http, 200, ModelsJson));
        app.MapGet("/api/v1/model-cache", (HttpContext http) => Json(http, 200, ModelCacheJson));
        app.MapGet("/api/v1/models/{model}", async (string model, HttpContext http) =>
        {
            switch (model)
            {
                case "fraud-demo":
                    await Json(http, 200, """{"name":"fraud-demo","versions":[1,2,3],"production_version":2,"serving_version":2,"state":"ready","reason":null,"last_swap":"2026-11-24T09:50:01Z"}""");
                    break;
                case "swapping":
                    await Json(http, 200, """{"name":"swapping","versions":[2,3],"production_version":3,"serving_version":3,"state":"ready","reason":null}""");
                    break;
                case "exploding":
                    await Json(http, 500, """{"error":"unexpected result","code":"internal"}""");
                    break;
                case "slow":
                    // Never answers: the CLI's --timeout has to give up. Ends when the client hangs up.
                    await Task.Delay(Timeout.Infinite, http.RequestAborted).ContinueWith(_ => { }, TaskScheduler.Default);
                    break;
                default:
                    await NotFound(http, model);
                    break;
            }
        });
        app.MapPost("/api/v1/models/{model}/versions", (string model, HttpContext http) =>
            Json(http, 201, Change(model, true, 3, """{"production":{"version":2},"previous":{"version":1}}""")));
        app.MapPost("/api/v1/models/{model}/promote", (string model, HttpContext http) =>
        {
            var version = System.Text.Json.JsonDocument.Parse((string)http.Items[BodyKey]!).RootElement.GetProperty("version").GetInt32();
            var aliases = $$$"""{"production":{"version":{{{version}}}},"previous":{"version":2}}""";
            return model switch
            {
                "ghost" => NotFound(http, model),
                "refusing" => Json(http, 409, $$"""{"error":"Version {{version}} of 'refusing' was refused by its replica and production is version 2 again: warm-up run failed","code":"version_refused"}"""),
                "loading" => Json(http, 202, Change(model, true, version, aliases)[..^1] +
                    $$""","outcome":"pending","detail":"Version {{version}} of 'loading' is production but does not serve yet after 5 s (state loading)."}"""),
                _ => Json(http, 200, Change(model, version != 2, version, aliases)),
            };
        });
        app.MapPost("/api/v1/models/{model}/canary", (string model, HttpContext http) =>
        {
            var body = System.Text.Json.JsonDocument.Parse((string)http.Items[BodyKey]!).RootElement;
            var version = body.GetProperty("version").GetInt32();
            var weight = body.GetProperty("weight").GetDouble();
            return Json(http, 200, weight == 0
                ? Change(model, true, 2, """{"production":{"version":2}}""")
                : Change(model, true, version, $$$"""{"canary":{"version":{{{version}}},"weight":{{{weight.ToString(System.Globalization.CultureInfo.InvariantCulture)}}}},"production":{"version":2}}"""));
        });
        app.MapPost("/api/v1/models/{model}/rollback", (string model, HttpContext http) => model switch
        {
            "fresh" => Json(http, 409, """{"error":"Model 'fresh' has no previous version to roll back to.","code":"conflict"}"""),
            "ghost" => NotFound(http, model),
            _ => Json(http, 200, Change(model, true, 1, """{"production":{"version":1},"previous":{"version":2}}""")),
        });
        app.MapPost("/api/v1/models/{model}/pin", (string model, HttpContext http) =>
            Json(http, 200, Change(model, true, null, """{"production":{"version":2},"pinned":{"version":2}}""")));
        app.MapPost("/api/v1/models/{model}/unpin", (string model, HttpContext http) =>
            Json(http, 200, Change(model, false, null, """{"production":{"version":2}}""")));
        app.MapPost("/api/v1/models/{model}/undeploy", (string model, HttpContext http) =>
            Json(http, 200, Change(model, true, null, """{"undeployed":{"version":2}}""")));
        app.MapPost("/api/v1/models/{model}/deploy", (string model, HttpContext http) =>
            Json(http, 200, Change(model, true, 2, """{"production":{"version":2}}""")));
        app.MapGet("/api/v1/audit", (HttpContext http) => Json(http, 200, AuditJson));
        app.MapFakeClusterRoutes();
        MapKafkaRoutes(app);
        MapScaleRoutes(app);
        MapDriftRoutes(app);

        await app.StartAsync();
        _app = app;
        Url = app.Urls.Single();
    }

    public async Task DisposeAsync()
    {
        if (_app is not null) await _app.DisposeAsync();
    }

    private static string Change(string model, bool changed, int? version, string aliases) =>
        $$"""{"model":"{{model}}","changed":{{(changed ? "true" : "false")}},"version":{{(version?.ToString() ?? "null")}},"aliases":{{aliases}}}""";

    private static Task NotFound(HttpContext http, string model) =>
        Json(http, 404, $$"""{"error":"Model '{{model}}' is not in the registry.","code":"model_not_found"}""");

    private static Task Json(HttpContext http, int status, string json)
    {
        http.Response.StatusCode = status;
        http.Response.ContentType = "application/json; charset=utf-8";
        return http.Response.WriteAsync(json.Trim());
    }

    private async Task Record(HttpContext http)
    {
        var request = http.Request;
        var files = new Dictionary<string, byte[]>();
        var body = "";
        if (request.HasFormContentType)
        {
            var form = await request.ReadFormAsync(http.RequestAborted);
            foreach (var file in form.Files)
            {
                using var buffer = new MemoryStream();
                await file.CopyToAsync(buffer, http.RequestAborted);
                files[file.Name] = buffer.ToArray();
            }
        }
        else if (request.ContentLength > 0 || request.Headers.TransferEncoding.Count > 0)
        {
            using var reader = new StreamReader(request.Body, Encoding.UTF8);
            body = await reader.ReadToEndAsync(http.RequestAborted);
        }
        http.Items[BodyKey] = body;
        Requests.Enqueue(new ReceivedRequest(request.Method, request.Path.Value ?? "", request.QueryString.Value ?? "",
            request.Headers.Authorization.Count > 0 ? request.Headers.Authorization.ToString() : null,
            request.ContentType, body, files));
    }
}
