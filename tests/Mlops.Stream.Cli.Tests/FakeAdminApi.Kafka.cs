using System.Globalization;
using System.Text.Json;
using System.Threading.Channels;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace Mlops.Stream.Cli.Tests;

/// <summary>
/// The fake's Kafka routes in the node's shapes: topics, topic detail, NDJSON tails, v2 metadata, the
/// reference profile and the produce route. Requests produced through the fake come back as
/// predictions on a predictions tail opened <c>from=end</c>, 3 ms after their record timestamp, so
/// <c>mlops load</c> runs end to end. Model <c>ghost</c> is unknown, <c>broken</c>'s tail fails after
/// one record, <c>no-inputs</c> has no known inputs, <c>refusing</c> cannot produce.
/// </summary>
public sealed partial class FakeAdminApi
{
    public const string RequestTopic = "mlops.requests.fraud-demo.v1";

    /// <summary>The fake's Kafka latency: request record timestamp → prediction record timestamp.</summary>
    public static readonly TimeSpan PredictionDelay = TimeSpan.FromMilliseconds(3);

    public const string TopicsJson = """
        [{"name":"mlops.audit.v1","family":"audit","model":null,"partitions":1,"end_offset":7},{"name":"mlops.predictions.fraud-demo.v1","family":"predictions","model":"fraud-demo","partitions":8,"end_offset":120},{"name":"mlops.requests.fraud-demo.v1","family":"requests","model":"fraud-demo","partitions":8,"end_offset":123}]
        """;

    public const string RequestTopicJson = """
        {"name":"mlops.requests.fraud-demo.v1","family":"requests","model":"fraud-demo","end_offset":123,"partitions":[{"partition":0,"low":0,"high":61},{"partition":1,"low":10,"high":62}],"groups":[{"group":"mlops-serve.fraud-demo","lag":53,"partitions":[{"partition":0,"committed":60,"lag":1},{"partition":1,"committed":null,"lag":52}]}]}
        """;

    public const string PredictionsTopicJson = """
        {"name":"mlops.predictions.fraud-demo.v1","family":"predictions","model":"fraud-demo","end_offset":120,"partitions":[{"partition":0,"low":0,"high":120}],"groups":[]}
        """;

    public static readonly IReadOnlyDictionary<string, string[]> TailLines = new Dictionary<string, string[]>
    {
        ["predictions"] =
        [
            """{"topic":"mlops.predictions.fraud-demo.v1","partition":3,"offset":17,"timestamp":"2026-11-24T10:11:04.123Z","key":"tx-1","headers":{"mlops-request-id":"tx-1","mlops-model-version":"2"},"value":{"id":"tx-1","model_name":"fraud-demo","model_version":"2","outputs":[{"name":"probabilities","datatype":"FP32","shape":[1,2],"data":[0.98545665,0.014543327]},{"name":"label","datatype":"INT64","shape":[1],"data":[0]}]}}""",
            """{"topic":"mlops.predictions.fraud-demo.v1","partition":5,"offset":2,"timestamp":"2026-11-24T10:11:04.200Z","key":"tx-2","headers":{"mlops-request-id":"tx-2"},"value":{"id":"tx-2","model_name":"fraud-demo","model_version":"2","outputs":[{"name":"scores","datatype":"FP32","shape":[1,8],"data":[[1,2,3,4,5,6,7,8]]}]}}""",
        ],
        ["served"] =
        [
            """{"topic":"mlops.served.fraud-demo.v1","partition":3,"offset":17,"timestamp":"2026-11-24T10:11:04.124Z","key":"tx-1","headers":{"mlops-request-id":"tx-1"},"value":{"id":"tx-1","model":"fraud-demo","version":"2","inputs":[{"name":"features","datatype":"FP32","shape":[1,3],"data":[1,2,3]}],"outputs":[{"name":"label","datatype":"INT64","shape":[1],"data":[1]}],"request_timestamp":"2026-11-24T10:11:04.100Z","served_timestamp":"2026-11-24T10:11:04.120Z","queue_ms":1.25,"inference_ms":0.5,"batch_size":4,"source_partition":3,"source_offset":17}}""",
        ],
        ["dlq"] =
        [
            """{"topic":"mlops.requests.fraud-demo.dlq.v1","partition":0,"offset":0,"timestamp":"2026-11-24T10:11:05.000Z","key":"bad-1","headers":{"mlops-request-id":"bad-1","mlops-error":"input 'features' has shape [1,2] but the model expects [-1,30]","mlops-error-code":"shape_mismatch"},"value":{"id":"bad-1","inputs":[]}}""",
            """{"topic":"mlops.requests.fraud-demo.dlq.v1","partition":1,"offset":0,"timestamp":"2026-11-24T10:11:06.000Z","key":null,"headers":{},"value_base64":"bm90IGpzb24="}""",
        ],
    };

    public const string MetadataJson = """
        {"name":"fraud-demo","versions":["1","2"],"platform":"onnxruntime_onnx","inputs":[{"name":"features","datatype":"FP32","shape":[-1,3]}],"outputs":[{"name":"label","datatype":"INT64","shape":[-1]}]}
        """;

    /// <summary>Three features; the last one's first bin is empty, so no generated value may fall in [-1, 0).</summary>
    public const string ReferenceJson = """
        {"model":"fraud-demo","version":2,"inputs":[{"name":"features","datatype":"FP32","shape":[-1,3]}],"feature_names":["a","b","c"],"features":[{"name":"a","mean":1,"std_dev":0.5,"count":2,"edges":[0,1,2],"counts":[1,1]},{"name":"b","mean":15,"std_dev":3,"count":5,"edges":[10,20],"counts":[5]},{"name":"c","mean":0.5,"std_dev":0.3,"count":4,"edges":[-1,0,1],"counts":[0,4]}],"sample_request":null}
        """;

    private readonly Channel<(string Id, DateTimeOffset Timestamp)> _produced = Channel.CreateUnbounded<(string, DateTimeOffset)>();
    private long _nextOffset;

    private void MapKafkaRoutes(WebApplication app)
    {
        app.MapGet("/api/v1/topics", (HttpContext http) => Json(http, 200, TopicsJson));
        app.MapGet("/api/v1/topics/{name}", (string name, HttpContext http) => name switch
        {
            RequestTopic => Json(http, 200, RequestTopicJson),
            "mlops.predictions.fraud-demo.v1" => Json(http, 200, PredictionsTopicJson),
            _ => Json(http, 404, $$"""{"error":"topic '{{name}}' does not exist on the broker","code":"topic_not_found"}"""),
        });
        app.MapGet("/api/v1/models/{model}/tail/{stream}", TailAsync);
        app.MapGet("/v2/models/{model}", (string model, HttpContext http) => model switch
        {
            "fraud-demo" or "refusing" => Json(http, 200, MetadataJson),
            "no-inputs" => Json(http, 200, """{"name":"no-inputs","versions":["1"],"platform":"onnxruntime_onnx","inputs":[],"outputs":[]}"""),
            _ => NotFound(http, model),
        });
        app.MapGet("/api/v1/models/{model}/reference", (string model, HttpContext http) =>
            model == "fraud-demo" ? Json(http, 200, ReferenceJson) : NotFound(http, model));
        app.MapPost("/api/v1/models/{model}/requests", ProduceAsync);
    }

    private async Task TailAsync(string model, string stream, string? from, int? limit, HttpContext http)
    {
        if (model == "ghost")
        {
            await NotFound(http, model);
            return;
        }
        http.Response.ContentType = "application/x-ndjson";
        await http.Response.StartAsync();
        await http.Response.Body.FlushAsync();
        if (model == "broken")
        {
            await Line(http, TailLines["predictions"][0]);
            await Line(http, """{"error":"reading mlops.predictions.broken.v1 failed: broker down","code":"kafka_unavailable"}""");
            return;
        }
        if (from == "beginning")
        {
            foreach (var line in TailLines[stream].Take(limit ?? int.MaxValue)) await Line(http, line);
            return;
        }
        // From the end: predictions of what is produced from now on, until the client leaves.
        try
        {
            for (var sent = 0; sent < (limit ?? int.MaxValue); sent++)
            {
                var (id, timestamp) = await _produced.Reader.ReadAsync(http.RequestAborted);
                await Line(http, Prediction(id, timestamp + PredictionDelay));
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    private async Task ProduceAsync(string model, HttpContext http)
    {
        switch (model)
        {
            case "ghost":
                await NotFound(http, model);
                return;
            case "refusing":
                await Json(http, 503, """{"error":"Kafka did not answer a metadata request within 10 s","code":"kafka_unavailable"}""");
                return;
        }
        var ids = JsonDocument.Parse((string)http.Items[BodyKey]!).RootElement.EnumerateArray().Select(r => r.GetProperty("id").GetString()!).ToList();
        var now = DateTimeOffset.FromUnixTimeMilliseconds(DateTimeOffset.UtcNow.ToUnixTimeMilliseconds());
        var records = ids.Select((id, i) => $$"""{"id":"{{id}}","partition":{{i % 8}},"offset":{{Interlocked.Increment(ref _nextOffset)}},"timestamp":"{{now:O}}"}""");
        await Json(http, 200, $$"""{"model":"{{model}}","topic":"mlops.requests.{{model}}.v1","records":[{{string.Join(",", records)}}]}""");
        foreach (var id in ids) _produced.Writer.TryWrite((id, now));
    }

    private static string Prediction(string id, DateTimeOffset timestamp) =>
        $$$"""{"topic":"mlops.predictions.fraud-demo.v1","partition":0,"offset":0,"timestamp":"{{{timestamp.UtcDateTime.ToString("O", CultureInfo.InvariantCulture)}}}","key":"{{{id}}}","headers":{"mlops-request-id":"{{{id}}}"},"value":{"id":"{{{id}}}","model_name":"fraud-demo","model_version":"2","outputs":[{"name":"label","datatype":"INT64","shape":[1],"data":[0]}]}}""";

    private static async Task Line(HttpContext http, string line)
    {
        await http.Response.WriteAsync(line + "\n");
        await http.Response.Body.FlushAsync();
    }
}
