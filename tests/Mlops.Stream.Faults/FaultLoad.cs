using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Confluent.Kafka;
using Mlops.Stream.Actors.Serving;
using Mlops.Stream.Inference.Wire;

namespace Mlops.Stream.Faults;

/// <summary>
/// Steady load on one node while a fault happens: Kafka request records at a fixed rate (open
/// loop: request i is sent at start + i / rate whatever the node does) and one HTTP client
/// asking one request after another. Requests carry their id (<c>&lt;run&gt;-&lt;i&gt;</c>) as the
/// <c>mlops-request-id</c> header, a key shared by every <see cref="Keys"/>-th request (so order per
/// key can be checked) and features that differ per request (so a prediction given to the wrong
/// request shows as wrong). With <see cref="LoadShape.PoisonEvery"/>, every so many requests of
/// each path carry a first feature a poisoned model refuses (<see cref="FaultModels.PoisonFirstFeature"/>):
/// over HTTP each must be refused with a JSON error code, over Kafka each must become a dead letter.
/// </summary>
public sealed class FaultLoad : IAsyncDisposable
{
    public const int Keys = 64;
    private const int FeatureCount = 30;
    private const string InputName = "features";

    private readonly CancellationTokenSource _stop = new();
    private readonly LoadShape _shape;
    private readonly Task _kafka;
    private readonly Task _http;
    private int _produced;
    private int _httpAnswered;
    private long _longestHttpTicks;

    private FaultLoad(string bootstrapServers, string requestTopic, HttpClient node, string model, string run, int rate, LoadShape shape)
    {
        _shape = shape;
        _kafka = Task.Factory.StartNew(() => ProduceKafka(bootstrapServers, requestTopic, run, rate), TaskCreationOptions.LongRunning);
        _http = Task.Run(() => AskHttpAsync(node, model, run));
    }

    /// <summary>Kafka records handed to the producer so far.</summary>
    public int Produced => Volatile.Read(ref _produced);

    /// <summary>Poisoned Kafka records handed to the producer so far (each should become a dead letter).</summary>
    public int PoisonProduced => _shape.PoisonEvery == 0 ? 0 : Produced / _shape.PoisonEvery;

    /// <summary>HTTP requests answered 200.</summary>
    public int HttpAnswered => Volatile.Read(ref _httpAnswered);

    /// <summary>Poisoned HTTP requests refused with a JSON error code, as they must be, by "status code".</summary>
    public ConcurrentDictionary<string, int> HttpPoisonRefused { get; } = new();

    /// <summary>Good HTTP requests refused with a status the fault allows (<see cref="LoadShape.HttpRefusals"/>) and a JSON error code, by "status code".</summary>
    public ConcurrentDictionary<string, int> HttpRefused { get; } = new();

    /// <summary>The longest an HTTP request waited for its answer, whatever the answer.</summary>
    public TimeSpan LongestHttpAnswer => TimeSpan.FromTicks(Interlocked.Read(ref _longestHttpTicks));

    /// <summary>HTTP answers that are neither a 200 nor an allowed refusal, or none at all, with when and what (the node must keep serving HTTP whatever Kafka does).</summary>
    public ConcurrentQueue<string> HttpFailures { get; } = new();

    /// <summary>Kafka records the load's own producer could not deliver (they never reached the request topic).</summary>
    public ConcurrentQueue<string> ProduceFailures { get; } = new();

    public static FaultLoad Start(string bootstrapServers, ModelTopics topics, HttpClient node, string model, string run, int rate, LoadShape? shape = null) =>
        new(bootstrapServers, topics.Requests, node, model, run, rate, shape ?? LoadShape.Plain);

    /// <summary>The v2 request body of request <paramref name="index"/> of a run; a poisoned one has <see cref="FaultModels.PoisonFirstFeature"/> first.</summary>
    public static byte[] Body(string id, int index, bool poisoned = false)
    {
        var features = new float[FeatureCount];
        for (var j = 0; j < FeatureCount; j++) features[j] = (index * 31 + j * 7) % 101 / 101f;
        if (poisoned) features[0] = FaultModels.PoisonFirstFeature;
        return InferenceCodec.EncodeRequest(new InferenceRequest(id, [Tensor.Create(InputName, features, 1, FeatureCount)]));
    }

    /// <summary>The id of request <paramref name="index"/> of a run.</summary>
    public static string RequestId(string run, int index) => $"{run}-{index}";

    /// <summary>Request <paramref name="index"/> of a run as a Kafka record: its key (one of <see cref="Keys"/> per run), body and request id header.</summary>
    public static Message<string, byte[]> Record(string run, int index, bool poisoned = false)
    {
        var id = RequestId(run, index);
        return new Message<string, byte[]>
        {
            Key = $"{run}-key-{index % Keys}",
            Value = Body(id, index, poisoned),
            Headers = new Headers { { ServingHeaders.RequestId, Encoding.UTF8.GetBytes(id) } },
        };
    }

    /// <summary>Stops sending and waits until every Kafka record is delivered (or has failed) and the HTTP client has its last answer.</summary>
    public async Task StopAsync()
    {
        await _stop.CancelAsync().ConfigureAwait(false);
        await Task.WhenAll(_kafka, _http).ConfigureAwait(false);
    }

    private void ProduceKafka(string bootstrapServers, string topic, string run, int rate)
    {
        using var producer = new ProducerBuilder<string, byte[]>(new ProducerConfig
        {
            BootstrapServers = bootstrapServers, Acks = Acks.All, LingerMs = 5,
            // Whatever the fault, the load's records get to the broker eventually: the node is tested, not this producer.
            MessageTimeoutMs = 300_000,
        })
            // Its complaints while the broker is down are expected and not the node's: kept off the console.
            .SetLogHandler((_, _) => { })
            .Build();
        var start = Stopwatch.GetTimestamp();
        for (var i = 0; !_stop.IsCancellationRequested; i++)
        {
            var due = TimeSpan.FromSeconds((double)i / rate) - Stopwatch.GetElapsedTime(start);
            if (due > TimeSpan.Zero && _stop.Token.WaitHandle.WaitOne(due)) break;
            var id = RequestId(run, i);
            producer.Produce(topic, Record(run, i, _shape.IsPoisoned(i)), report =>
            {
                if (report.Error.IsError) ProduceFailures.Enqueue($"{id}: {report.Error.Reason}");
            });
            Interlocked.Increment(ref _produced);
        }
        producer.Flush(TimeSpan.FromMinutes(5));
    }

    private async Task AskHttpAsync(HttpClient node, string model, string run)
    {
        for (var i = 0; !_stop.IsCancellationRequested; i++)
        {
            var poisoned = _shape.IsPoisoned(i);
            var content = new ByteArrayContent(Body($"{run}-http-{i}", i, poisoned));
            content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
            var clock = Stopwatch.StartNew();
            try
            {
                using var response = await node.PostAsync($"/v2/models/{model}/infer", content, CancellationToken.None).ConfigureAwait(false);
                var status = (int)response.StatusCode;
                var body = response.IsSuccessStatusCode ? null : await response.Content.ReadAsStringAsync().ConfigureAwait(false);
                var code = body is null ? null : ErrorCode(body);
                if (poisoned && code is not null && status >= 400) HttpPoisonRefused.AddOrUpdate($"{status} {code}", 1, (_, n) => n + 1);
                else if (poisoned) HttpFailures.Enqueue($"{DateTime.UtcNow:HH:mm:ss.fff} poisoned request {i} answered {status} {body}");
                else if (response.IsSuccessStatusCode) Interlocked.Increment(ref _httpAnswered);
                else if (code is not null && _shape.HttpRefusals.Contains(status)) HttpRefused.AddOrUpdate($"{status} {code}", 1, (_, n) => n + 1);
                else HttpFailures.Enqueue($"{DateTime.UtcNow:HH:mm:ss.fff} {status} {body}");
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
            {
                // TaskCanceledException: the client's own timeout, i.e. no answer at all.
                HttpFailures.Enqueue($"{DateTime.UtcNow:HH:mm:ss.fff} {e.GetType().Name}: {e.Message}");
            }
            var took = clock.Elapsed.Ticks;
            if (took > Interlocked.Read(ref _longestHttpTicks)) Interlocked.Exchange(ref _longestHttpTicks, took);
            // About a hundred a second at most: steady traffic beside Kafka, not a saturation test.
            try { await Task.Delay(10, _stop.Token).ConfigureAwait(false); }
            catch (OperationCanceledException) { return; }
        }
    }

    /// <summary>The <c>code</c> of a JSON error body; null when the body is not one.</summary>
    private static string? ErrorCode(string body)
    {
        try
        {
            using var json = JsonDocument.Parse(body);
            return json.RootElement.ValueKind == JsonValueKind.Object && json.RootElement.TryGetProperty("code", out var code) && code.ValueKind == JsonValueKind.String
                ? code.GetString()
                : null;
        }
        catch (JsonException)
        {
            return null;
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (!_stop.IsCancellationRequested) await StopAsync().ConfigureAwait(false);
        _stop.Dispose();
    }
}

/// <summary>
/// What a fault run's load looks like beyond its rate: <see cref="PoisonEvery"/>-th requests (of
/// each path) poisoned, 0 for none; <see cref="HttpRefusals"/> the HTTP statuses that, with a JSON
/// error code, count as an answer rather than a failure (e.g. 504 while a model is slow).
/// </summary>
public sealed record LoadShape(int PoisonEvery = 0, IReadOnlySet<int>? Refusals = null)
{
    public static LoadShape Plain { get; } = new();

    public IReadOnlySet<int> HttpRefusals => Refusals ?? new HashSet<int>();

    public bool IsPoisoned(int index) => PoisonEvery > 0 && index % PoisonEvery == PoisonEvery - 1;
}
