using System.Collections.Concurrent;
using System.Net;
using System.Text;
using System.Text.Json;
using System.Threading.Channels;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Mlops.Stream.Inference.Registry;
using Mlops.Stream.Inference.Wire;
using Mlops.Stream.Http.Tests.Support;

namespace Mlops.Stream.Http.Tests;

/// <summary>
/// The topic, tail, produce and reference routes over fake Kafka implementations: NDJSON framing,
/// the tail limit, what the produce route accepts and passes on, and every refusal's status and code.
/// </summary>
public sealed class TopicsApiTests : IAsyncLifetime
{
    private readonly FakeTail _tail = new();
    private readonly FakeProducer _producer = new();
    private WebApplication? _app;
    private HttpClient _http = null!;

    public async Task InitializeAsync()
    {
        var builder = WebApplication.CreateBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        builder.Services.AddSingleton<IModelRegistry>(new StubRegistry());
        builder.Services.AddSingleton<ITopicInspector>(new FakeInspector());
        builder.Services.AddSingleton<IModelTopicTail>(_tail);
        builder.Services.AddSingleton<IRequestProducer>(_producer);
        builder.Services.AddSingleton<IFeedbackProducer>(_producer);
        builder.Services.AddTopicsApi();
        _app = builder.Build();
        _app.MapTopicsApi();
        await _app.StartAsync();
        _http = new HttpClient { BaseAddress = new Uri(_app.Urls.Single()), Timeout = TimeSpan.FromSeconds(30) };
    }

    public async Task DisposeAsync()
    {
        _http.Dispose();
        if (_app is not null) await _app.DisposeAsync();
    }

    [Fact]
    public async Task A_tail_answers_ndjson_one_line_per_record_with_json_values_embedded_and_other_bytes_as_base64()
    {
        _tail.Records.Add(Record(0, """{"id":"r1","outputs":[]}""", ("mlops-request-id", "r1"), ("h", "first"), ("h", "last")));
        _tail.Records.Add(Record(1, "not json"));
        _tail.Records.Add(Record(2, null));
        _tail.Records.Add(Record(3, "{\n  \"pretty\": true\n}"));

        using var response = await _http.GetAsync("/api/v1/models/fraud/tail/predictions?from=beginning&limit=4");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("application/x-ndjson", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal(("fraud", ModelStream.Predictions, TailStart.Beginning), _tail.Opened.Single());
        var lines = (await response.Content.ReadAsStringAsync()).Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(4, lines.Length);
        var first = JsonDocument.Parse(lines[0]).RootElement;
        Assert.Equal("mlops.predictions.fraud.v1", first.GetProperty("topic").GetString());
        Assert.Equal("2026-11-24T10:00:00Z", first.GetProperty("timestamp").GetString());
        Assert.Equal("r1", first.GetProperty("value").GetProperty("id").GetString());
        Assert.Equal("last", first.GetProperty("headers").GetProperty("h").GetString());
        Assert.Equal("not json", Encoding.UTF8.GetString(Convert.FromBase64String(JsonDocument.Parse(lines[1]).RootElement.GetProperty("value_base64").GetString()!)));
        Assert.Equal(JsonValueKind.Null, JsonDocument.Parse(lines[2]).RootElement.GetProperty("value").ValueKind);
        Assert.True(JsonDocument.Parse(lines[3]).RootElement.GetProperty("value").GetProperty("pretty").GetBoolean());
        await WaitUntil(() => _tail.Disposed == 1, "the session is disposed when the limit is reached");
    }

    [Fact]
    public async Task Eight_tails_run_at_once_a_ninth_is_refused_with_429_and_a_closed_tail_frees_its_slot()
    {
        var open = new List<HttpResponseMessage>();
        for (var i = 0; i < TopicsApi.MaxConcurrentTails; i++)
        {
            var response = await _http.GetAsync("/api/v1/models/fraud/tail/served", HttpCompletionOption.ResponseHeadersRead);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            open.Add(response);
        }

        using (var refused = await _http.GetAsync("/api/v1/models/fraud/tail/served"))
        {
            Assert.Equal(HttpStatusCode.TooManyRequests, refused.StatusCode);
            Assert.NotNull(refused.Headers.RetryAfter);
            Assert.Equal("too_many_tails", await Code(refused));
        }

        open[0].Dispose();
        await WaitUntil(() => _tail.Disposed == 1, "a tail whose client left is closed");
        using (var again = await _http.GetAsync("/api/v1/models/fraud/tail/served", HttpCompletionOption.ResponseHeadersRead))
            Assert.Equal(HttpStatusCode.OK, again.StatusCode);
        open.ForEach(r => r.Dispose());
    }

    [Theory]
    [InlineData("/api/v1/models/ghost/tail/predictions", HttpStatusCode.NotFound, "model_not_found")]
    [InlineData("/api/v1/models/no-topics/tail/predictions", HttpStatusCode.NotFound, "topic_not_found")]
    [InlineData("/api/v1/models/fraud/tail/requests", HttpStatusCode.BadRequest, "bad_request")]
    [InlineData("/api/v1/models/fraud/tail/dlq?from=middle", HttpStatusCode.BadRequest, "bad_request")]
    [InlineData("/api/v1/models/fraud/tail/dlq?limit=0", HttpStatusCode.BadRequest, "bad_request")]
    [InlineData("/api/v1/topics/nope", HttpStatusCode.NotFound, "topic_not_found")]
    [InlineData("/api/v1/models/ghost/reference", HttpStatusCode.NotFound, "model_not_found")]
    public async Task Refusals_have_the_usual_error_body(string path, HttpStatusCode status, string code)
    {
        using var response = await _http.GetAsync(path);

        Assert.Equal(status, response.StatusCode);
        Assert.Equal(code, await Code(response));
    }

    [Fact]
    public async Task The_produce_route_passes_each_request_with_its_id_and_its_own_bytes_and_answers_where_they_landed()
    {
        const string first = """{"id":"a","inputs":[{"name":"x","datatype":"FP32","shape":[1,1],"data":[1.50]}]}""";
        const string second = """{"id":"b","inputs":"not even a list"}""";

        using var response = await Post("fraud", $"[{first}, {second}]");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var (model, requests) = _producer.Calls.Single();
        Assert.Equal("fraud", model);
        Assert.Equal(["a", "b"], requests.Select(r => r.Id));
        Assert.Equal(first, Encoding.UTF8.GetString(requests[0].Value));
        Assert.Equal(second, Encoding.UTF8.GetString(requests[1].Value));
        var answer = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;
        Assert.Equal("mlops.requests.fraud.v1", answer.GetProperty("topic").GetString());
        Assert.Equal(["a", "b"], answer.GetProperty("records").EnumerateArray().Select(r => r.GetProperty("id").GetString()));
        Assert.Equal(1, answer.GetProperty("records")[1].GetProperty("offset").GetInt64());
    }

    [Theory]
    [InlineData("ghost", "[{\"id\":\"a\"}]", HttpStatusCode.NotFound, "model_not_found")]
    [InlineData("fraud", "{\"id\":\"a\"}", HttpStatusCode.BadRequest, "bad_request")]
    [InlineData("fraud", "[]", HttpStatusCode.BadRequest, "bad_request")]
    [InlineData("fraud", "[{\"id\":\"a\"},{\"inputs\":[]}]", HttpStatusCode.BadRequest, "bad_request")]
    [InlineData("fraud", "[{\"id\":7}]", HttpStatusCode.BadRequest, "bad_request")]
    [InlineData("fraud", "[{\"id\":\"a\"", HttpStatusCode.BadRequest, "bad_request")]
    [InlineData("no-topics", "[{\"id\":\"a\"}]", HttpStatusCode.ServiceUnavailable, "topic_not_found")]
    public async Task The_produce_route_refuses_what_is_not_a_batch_of_requests_with_ids(string model, string body, HttpStatusCode status, string code)
    {
        using var response = await Post(model, body);

        Assert.Equal(status, response.StatusCode);
        Assert.Equal(code, await Code(response));
        Assert.Empty(_producer.Calls);
    }

    [Fact]
    public async Task The_produce_route_refuses_more_requests_than_its_batch_limit_with_413()
    {
        var body = "[" + string.Join(",", Enumerable.Range(0, TopicsApi.MaxProduceBatch + 1).Select(i => $"{{\"id\":\"r{i}\"}}")) + "]";

        using var response = await Post("fraud", body);

        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, response.StatusCode);
        Assert.Equal("batch_too_large", await Code(response));
    }

    [Fact]
    public async Task The_feedback_route_writes_each_label_as_sent_to_the_feedback_topic()
    {
        const string first = """{"id":"a","label":1}""";
        const string second = """{"id":"b","label":["fraud",0,true]}""";

        using var response = await _http.PostAsync("/api/v1/models/fraud/feedback", new StringContent($"[{first},{second}]", Encoding.UTF8, "application/json"));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var (model, labels) = _producer.FeedbackCalls.Single();
        Assert.Equal(("fraud", first, second), (model, Encoding.UTF8.GetString(labels[0].Value), Encoding.UTF8.GetString(labels[1].Value)));
        Assert.Equal(["a", "b"], labels.Select(r => r.Id));
        var answer = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;
        Assert.Equal("mlops.feedback.fraud.v1", answer.GetProperty("topic").GetString());
        Assert.Empty(_producer.Calls);
    }

    [Theory]
    [InlineData("[{\"label\":1}]", "label [0] has no string 'id'")]
    [InlineData("[{\"id\":\"a\",\"label\":1},{\"id\":\"b\"}]", "label [1] ('b') needs a 'label'")]
    [InlineData("[{\"id\":\"a\",\"label\":-1}]", "needs a 'label'")]
    [InlineData("[{\"id\":\"a\",\"label\":0.5}]", "needs a 'label'")]
    [InlineData("[{\"id\":\"a\",\"label\":[]}]", "needs a 'label'")]
    [InlineData("[{\"id\":\"a\",\"label\":{\"class\":1}}]", "needs a 'label'")]
    [InlineData("{\"id\":\"a\",\"label\":1}", "the body must be a JSON array of feedback labels")]
    public async Task The_feedback_route_refuses_a_label_without_id_or_class_and_writes_nothing(string body, string message)
    {
        using var response = await _http.PostAsync("/api/v1/models/fraud/feedback", new StringContent(body, Encoding.UTF8, "application/json"));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains(message, await response.Content.ReadAsStringAsync());
        Assert.Empty(_producer.FeedbackCalls);
    }

    [Fact]
    public async Task The_reference_route_serves_the_production_versions_inputs_and_feature_profile()
    {
        using var response = await _http.GetAsync("/api/v1/models/fraud/reference");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var reference = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;
        Assert.Equal(2, reference.GetProperty("version").GetInt32());
        Assert.Equal("FP32", reference.GetProperty("inputs")[0].GetProperty("datatype").GetString());
        var feature = reference.GetProperty("features")[0];
        Assert.Equal("amount", feature.GetProperty("name").GetString());
        Assert.Equal(Math.Sqrt(5), feature.GetProperty("std_dev").GetDouble(), 9);
        Assert.Equal(3, feature.GetProperty("edges").GetArrayLength());
    }

    private Task<HttpResponseMessage> Post(string model, string body) =>
        _http.PostAsync($"/api/v1/models/{model}/requests", new StringContent(body, Encoding.UTF8, "application/json"));

    private static async Task<string?> Code(HttpResponseMessage response) =>
        JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.GetProperty("code").GetString();

    private static TailedRecord Record(long offset, string? value, params (string Name, string Value)[] headers) =>
        new("mlops.predictions.fraud.v1", 0, offset, new DateTimeOffset(2026, 11, 24, 10, 0, 0, TimeSpan.Zero), $"k{offset}",
            [.. headers.Select(h => KeyValuePair.Create(h.Name, h.Value))], value is null ? null : Encoding.UTF8.GetBytes(value));

    private static Task WaitUntil(Func<bool> condition, string what) => Eventually.HoldsAsync(condition, what, TimeSpan.FromSeconds(30));

    /// <summary>Models "fraud" (production version 2) and "no-topics" are registered; anything else is not.</summary>

    private sealed class FakeInspector : ITopicInspector
    {
        public Task<IReadOnlyList<TopicSummary>> ListAsync(CancellationToken cancellationToken) => Task.FromResult<IReadOnlyList<TopicSummary>>([]);

        public Task<TopicDetail?> DescribeAsync(string topic, CancellationToken cancellationToken) => Task.FromResult<TopicDetail?>(null);
    }

    /// <summary>Sessions hand out <see cref="Records"/> in order, then wait until cancelled. Model "no-topics" has none.</summary>
    private sealed class FakeTail : IModelTopicTail
    {
        private int _disposed;

        public List<TailedRecord> Records { get; } = [];
        public ConcurrentQueue<(string, ModelStream, TailStart)> Opened { get; } = new();
        public int Disposed => _disposed;

        public Task<ITailSession?> OpenAsync(string model, ModelStream stream, TailStart from, CancellationToken cancellationToken)
        {
            if (model == "no-topics") return Task.FromResult<ITailSession?>(null);
            Opened.Enqueue((model, stream, from));
            var records = Channel.CreateUnbounded<TailedRecord>();
            foreach (var record in Records) records.Writer.TryWrite(record);
            return Task.FromResult<ITailSession?>(new Session(records.Reader, () => Interlocked.Increment(ref _disposed)));
        }

        private sealed class Session(ChannelReader<TailedRecord> records, Action disposed) : ITailSession
        {
            public string Topic => "mlops.predictions.fraud.v1";

            public ValueTask<TailedRecord> NextAsync(CancellationToken cancellationToken) => records.ReadAsync(cancellationToken);

            public ValueTask DisposeAsync()
            {
                disposed();
                return ValueTask.CompletedTask;
            }
        }
    }

    /// <summary>Writes every batch to partition 0 from offset 0, except for model "no-topics", whose topic is missing.</summary>
    private sealed class FakeProducer : IRequestProducer, IFeedbackProducer
    {
        public ConcurrentQueue<(string Model, IReadOnlyList<RequestRecord> Requests)> Calls { get; } = new();

        public ConcurrentQueue<(string Model, IReadOnlyList<RequestRecord> Labels)> FeedbackCalls { get; } = new();

        public Task<ProduceOutcome> ProduceFeedbackAsync(string model, IReadOnlyList<RequestRecord> labels, CancellationToken cancellationToken)
        {
            FeedbackCalls.Enqueue((model, labels));
            return Task.FromResult<ProduceOutcome>(new ProduceOutcome.Written($"mlops.feedback.{model}.v1",
                [.. labels.Select((r, i) => new ProducedRequest(r.Id, 0, i, DateTimeOffset.UnixEpoch))]));
        }

        public Task<ProduceOutcome> ProduceAsync(string model, IReadOnlyList<RequestRecord> requests, CancellationToken cancellationToken)
        {
            var topic = $"mlops.requests.{model}.v1";
            if (model == "no-topics") return Task.FromResult<ProduceOutcome>(new ProduceOutcome.TopicMissing(topic));
            Calls.Enqueue((model, requests));
            return Task.FromResult<ProduceOutcome>(new ProduceOutcome.Written(topic,
                [.. requests.Select((r, i) => new ProducedRequest(r.Id, 0, i, DateTimeOffset.UnixEpoch))]));
        }
    }
}
