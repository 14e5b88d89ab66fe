using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net.Http.Headers;
using System.Text;
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
/// request shows as wrong).
/// </summary>
public sealed class FaultLoad : IAsyncDisposable
{
    public const int Keys = 64;
    private const int FeatureCount = 30;
    private const string InputName = "features";

    private readonly CancellationTokenSource _stop = new();
    private readonly Task _kafka;
    private readonly Task _http;
    private int _produced;
    private int _httpAnswered;

    private FaultLoad(string bootstrapServers, string requestTopic, HttpClient node, string model, string run, int rate)
    {
        _kafka = Task.Factory.StartNew(() => ProduceKafka(bootstrapServers, requestTopic, run, rate), TaskCreationOptions.LongRunning);
        _http = Task.Run(() => AskHttpAsync(node, model, run));
    }

    /// <summary>Kafka records handed to the producer so far.</summary>
    public int Produced => Volatile.Read(ref _produced);

    /// <summary>HTTP requests answered 200.</summary>
    public int HttpAnswered => Volatile.Read(ref _httpAnswered);

    /// <summary>HTTP answers other than 200, with when and what (the node must keep serving HTTP whatever Kafka does).</summary>
    public ConcurrentQueue<string> HttpFailures { get; } = new();

    /// <summary>Kafka records the load's own producer could not deliver (they never reached the request topic).</summary>
    public ConcurrentQueue<string> ProduceFailures { get; } = new();

    public static FaultLoad Start(string bootstrapServers, ModelTopics topics, HttpClient node, string model, string run, int rate) =>
        new(bootstrapServers, topics.Requests, node, model, run, rate);

    /// <summary>The v2 request body of request <paramref name="index"/> of a run.</summary>
    public static byte[] Body(string id, int index)
    {
        var features = new float[FeatureCount];
        for (var j = 0; j < FeatureCount; j++) features[j] = (index * 31 + j * 7) % 101 / 101f;
        return InferenceCodec.EncodeRequest(new InferenceRequest(id, [Tensor.Create(InputName, features, 1, FeatureCount)]));
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
            var id = $"{run}-{i}";
            var message = new Message<string, byte[]>
            {
                Key = $"{run}-key-{i % Keys}",
                Value = Body(id, i),
                Headers = new Headers { { ServingHeaders.RequestId, Encoding.UTF8.GetBytes(id) } },
            };
            producer.Produce(topic, message, report =>
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
            var content = new ByteArrayContent(Body($"{run}-http-{i}", i));
            content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
            try
            {
                using var response = await node.PostAsync($"/v2/models/{model}/infer", content, CancellationToken.None).ConfigureAwait(false);
                if (response.IsSuccessStatusCode) Interlocked.Increment(ref _httpAnswered);
                else HttpFailures.Enqueue($"{DateTime.UtcNow:HH:mm:ss.fff} {(int)response.StatusCode} {await response.Content.ReadAsStringAsync().ConfigureAwait(false)}");
            }
            catch (HttpRequestException e)
            {
                HttpFailures.Enqueue($"{DateTime.UtcNow:HH:mm:ss.fff} {e.Message}");
            }
            // About a hundred a second at most: steady traffic beside Kafka, not a saturation test.
            try { await Task.Delay(10, _stop.Token).ConfigureAwait(false); }
            catch (OperationCanceledException) { return; }
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (!_stop.IsCancellationRequested) await StopAsync().ConfigureAwait(false);
        _stop.Dispose();
    }
}
