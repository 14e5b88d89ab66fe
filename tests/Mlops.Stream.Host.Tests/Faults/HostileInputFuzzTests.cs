using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Confluent.Kafka;
using Mlops.Stream.Actors.Serving;
using Mlops.Stream.Host.Tests.Infrastructure;
using Mlops.Stream.Inference.Registry;
using Mlops.Stream.Kafka.Embedded;
using Mlops.Stream.Kafka.Topics;
using Xunit.Abstractions;

namespace Mlops.Stream.Host.Tests.Faults;

/// <summary>
/// Issue 14, hostile input: a few hundred seeded mutations of v2 requests, binary tensor payloads
/// and model names thrown at a running node, over HTTP and as Kafka request records. Every HTTP
/// answer is 200 or a 4xx with a JSON <c>code</c> (a body that cannot be valid gets the 4xx), none
/// is a 5xx or missing; every record ends as one prediction or one dead letter carrying its
/// original bytes; the node stays ready and serves a good request afterwards. A failure names the
/// seed, so <see cref="HostileInputs"/> replays the same inputs.
/// </summary>
public sealed class HostileInputFuzzTests(ITestOutputHelper output)
{
    private const string Model = "fraud-demo";
    /// <summary>Fixed, so a failure replays; <c>MLOPS_FUZZ_SEED</c> explores other inputs.</summary>
    private static readonly int Seed = int.TryParse(Environment.GetEnvironmentVariable("MLOPS_FUZZ_SEED"), out var seed) ? seed : 20261203;
    private const int JsonBodies = 250;
    private const int BinaryBodies = 100;
    private const int KafkaRecords = 250;

    /// <summary>
    /// An answer later than this counts as a hang: well above any answer's time on a loaded machine
    /// (they take milliseconds), below the node's own 30 s infer timeout.
    /// </summary>
    private static readonly TimeSpan AnswerTimeout = TimeSpan.FromSeconds(20);

    /// <summary>After this many hangs the rest of the barrage is not sent: the test has failed, and it should not take hours to say so.</summary>
    private const int MaxHangs = 3;

    /// <summary>
    /// Path segments as a client would put them in a URL, already escaped where a client would escape.
    /// A bare <c>..</c> or <c>%2e%2e</c> segment is not among them: URL rules resolve it before any
    /// route sees it (<c>/v2/models/..</c> is <c>/v2</c>, the server metadata).
    /// </summary>
    private static readonly string[] HostileNames =
    [
        "..%2F..%2F..%2Fetc%2Fpasswd", "%2e%2e%2f%2e%2e%2fregistry", "..%5C..%5Cwindows", "fraud-demo%2F..%2Ffraud-demo", "%2e%2e%2e",
        "%C0%AE%C0%AE%2F", new string('a', 65), new string('m', 4000), "%D0%BC%D0%BE%D0%B4%D0%B5%D0%BB%D1%8C", "%F0%9F%98%80",
        "%0D%0AX-Injected:%201", "fraud%09demo", "%E2%80%AEomed-duarf", "fraud.demo", "-fraud", "fraud-demo%20", "%FF%FE", "%01%7F",
    ];

    /// <summary>Request targets Kestrel refuses before the node sees them: its bare 400, no body (README says so under the endpoint table).</summary>
    private static readonly string[] RefusedByKestrel = ["/v2/models/fraud-demo%00/infer", "/api/v1/models/%00/versions"];

    [Fact]
    public async Task Hostile_http_bodies_binary_payloads_and_model_names_get_a_4xx_with_a_code_and_the_node_stays_ready()
    {
        using var registry = new TempDirectory("mlops-fuzz-registry-");
        await using var node = await TestNode.StartAsync($"--Registry:Path={registry.Path}");
        await node.WaitForOkAsync("/healthz/ready");
        using var http = new HttpClient { BaseAddress = node.Address, Timeout = AnswerTimeout };
        var inputs = new HostileInputs(Seed);
        var answers = new AnswerLog();

        for (var i = 0; i < JsonBodies; i++)
        {
            var body = inputs.NextJson($"fuzz-{i}");
            await answers.CheckAsync(body.Describe(), body.Bad, () => http.PostAsync($"/v2/models/{Model}/infer", Content(body.Body, "application/json")));
        }
        for (var i = 0; i < BinaryBodies; i++)
        {
            var body = inputs.NextBinary($"fuzz-binary-{i}");
            var content = Content(body.Body, "application/octet-stream");
            content.Headers.Add("Inference-Header-Content-Length", body.BinaryHeaderLength);
            await answers.CheckAsync(body.Describe(), body.Bad, () => http.PostAsync($"/v2/models/{Model}/infer", content));
        }
        foreach (var name in HostileNames)
        {
            var shown = name.Length > 40 ? $"{name[..20]}... ({name.Length} characters)" : name;
            await answers.CheckAsync($"infer on model '{shown}'", true, () => http.PostAsync($"/v2/models/{name}/infer", Content(DemoRequests.Body("n"), "application/json")));
            await answers.CheckAsync($"metadata of model '{shown}'", true, () => http.GetAsync($"/v2/models/{name}"));
            await answers.CheckAsync($"status of model '{shown}'", true, () => http.GetAsync($"/api/v1/models/{name}"));
            await answers.CheckAsync($"upload to model '{shown}'", true, () => http.PostAsync($"/api/v1/models/{name}/versions", Content([1, 2, 3], "application/octet-stream")));
            await answers.CheckAsync($"multipart upload to model '{shown}'", true, () => http.PostAsync($"/api/v1/models/{name}/versions", Multipart("model.onnx")));
        }
        foreach (var target in RefusedByKestrel)
        {
            using var refused = await http.PostAsync(target, Content(DemoRequests.Body("k"), "application/json"));
            Assert.Equal(HttpStatusCode.BadRequest, refused.StatusCode);
        }
        // Hostile file names in a multipart upload to a real model: the file name is never a path.
        foreach (var fileName in new[] { "../../../evil.onnx", "..\\..\\evil.onnx", "/etc/passwd", "model\0.onnx", new string('f', 3000) })
        {
            await answers.CheckAsync($"multipart upload named '{fileName[..Math.Min(40, fileName.Length)]}'", true,
                () => http.PostAsync($"/api/v1/models/{Model}/versions", Multipart(fileName)));
        }

        output.WriteLine($"seed {Seed}: {answers.Summary}");
        Assert.True(answers.Failures.Count == 0,
            $"seed {Seed}: {answers.Failures.Count} of {answers.Count} hostile requests were answered wrongly:\n{string.Join("\n", answers.Failures.Take(20))}");
        // Nothing was written outside the model's own folder, and nothing was registered.
        Assert.Equal([Path.Combine(registry.Path, Model)], Directory.EnumerateFileSystemEntries(registry.Path));
        Assert.Empty(Directory.EnumerateFileSystemEntries(registry.Path, ".*", SearchOption.AllDirectories));
        await AssertStillServingAsync(node);
    }

    [Fact]
    public async Task Hostile_kafka_records_are_each_predicted_or_dead_lettered_with_their_original_bytes_and_none_is_lost()
    {
        using var broker = EmbeddedKafka.Start();
        var topics = ModelTopics.For(TopicCatalog.Default, Model);
        broker.CreateTopics(TopicCatalog.Default.DeclareAll([Model]));
        using var registry = new TempDirectory("mlops-fuzz-registry-");
        await using var node = await TestNode.StartAsync($"--Kafka:BootstrapServers={broker.BootstrapServers}", $"--Registry:Path={registry.Path}",
            "--Kafka:FetchWait=00:00:00.005");
        await node.WaitForOkAsync("/healthz/ready");
        using var oracle = new RegistryOracle(new FolderModelRegistry(registry.Path));

        // Every fifth record is a good request, so the hostile ones sit between records that must still be predicted.
        var inputs = new HostileInputs(Seed);
        var sent = new Dictionary<(int Partition, long Offset), (string Id, HostileBody Body, byte[] Key)>();
        using (var producer = new ProducerBuilder<byte[], byte[]>(new ProducerConfig { BootstrapServers = broker.BootstrapServers }).Build())
        {
            for (var i = 0; i < KafkaRecords; i++)
            {
                var id = $"fuzz-{i}";
                var body = i % 5 == 0 ? new HostileBody("good", DemoRequests.Body(id), Bad: false) : inputs.NextJson(id);
                var key = Encoding.UTF8.GetBytes($"key-{i % 16}");
                var delivered = await producer.ProduceAsync(topics.Requests, new Message<byte[], byte[]>
                {
                    Key = key, Value = body.Body, Headers = new Headers { { ServingHeaders.RequestId, Encoding.UTF8.GetBytes(id) } },
                });
                sent[(delivered.Partition.Value, delivered.Offset.Value)] = (id, body, key);
            }
        }

        long Answered() => TopicReader.EndOffsetSum(broker.BootstrapServers, topics.Predictions) + TopicReader.EndOffsetSum(broker.BootstrapServers, topics.DeadLetters);
        await Eventually.HoldsAsync(() => Answered() >= KafkaRecords, "every record is predicted or dead-lettered", TimeSpan.FromSeconds(60),
            state: () => Answered());

        var contents = ModelTopicContents.Read(broker.BootstrapServers, topics);
        var report = new DeliveryChecker(oracle).Check(contents);
        output.WriteLine($"seed {Seed}: {report}");
        Assert.True(report is { Sent: KafkaRecords, Lost: 0, Wrong: 0, Duplicated: 0 }, $"seed {Seed}: {report}");

        var failures = new List<string>();
        foreach (var ((partition, offset), (id, body, key)) in sent)
        {
            bool Answers(TopicRecord answer) => answer.Header(ServingHeaders.SourcePartition) == partition.ToString()
                                                && answer.Header(ServingHeaders.SourceOffset) == offset.ToString();
            var letter = contents.DeadLetters.SingleOrDefault(Answers);
            var predicted = contents.Predictions.Any(Answers);
            var what = $"{id} at {partition}@{offset}, {body.Describe()}";
            if (body.Bad && letter is null) failures.Add($"{what}: not dead-lettered (predicted: {predicted})");
            if (body.Kind == "good" && !predicted) failures.Add($"{what}: the good request was not predicted");
            if (letter is null) continue;
            if (!letter.Value.AsSpan().SequenceEqual(body.Body)) failures.Add($"{what}: the dead letter's value differs from the bytes sent");
            if (!letter.Key.AsSpan().SequenceEqual(key)) failures.Add($"{what}: the dead letter's key differs from the key sent");
            if (letter.Header(ServingHeaders.RequestId) != id) failures.Add($"{what}: the dead letter's request id is '{letter.Header(ServingHeaders.RequestId)}'");
            if (string.IsNullOrEmpty(letter.Header(ServingHeaders.ErrorCode))) failures.Add($"{what}: the dead letter has no error code");
        }
        Assert.True(failures.Count == 0, $"seed {Seed}: {failures.Count} records mishandled:\n{string.Join("\n", failures.Take(20))}");

        using var status = JsonDocument.Parse(await node.Http.GetStringAsync($"/api/v1/models/{Model}"));
        Assert.Equal(0, status.RootElement.GetProperty("kafka_stream").GetProperty("restarts").GetInt32());
        await AssertStillServingAsync(node);
    }

    private static async Task AssertStillServingAsync(TestNode node)
    {
        using var ready = await node.Http.GetAsync("/healthz/ready");
        Assert.Equal(HttpStatusCode.OK, ready.StatusCode);
        using var good = await node.Http.PostAsync($"/v2/models/{Model}/infer", Content(DemoRequests.Body("after-the-fuzz"), "application/json"));
        Assert.Equal(HttpStatusCode.OK, good.StatusCode);
    }

    private static ByteArrayContent Content(byte[] body, string mediaType)
    {
        var content = new ByteArrayContent(body);
        content.Headers.ContentType = new MediaTypeHeaderValue(mediaType);
        return content;
    }

    private static MultipartFormDataContent Multipart(string fileName)
    {
        var file = new ByteArrayContent("not an onnx model"u8.ToArray());
        file.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
        file.Headers.ContentDisposition = new ContentDispositionHeaderValue("form-data") { Name = "\"file\"", FileNameStar = fileName };
        return new MultipartFormDataContent { file };
    }

    /// <summary>Checks each answer as it comes: 200 (only where the body may be valid) or a 4xx with a JSON code; never a 5xx, a redirect or no answer.</summary>
    private sealed class AnswerLog
    {
        private readonly Dictionary<int, int> _byStatus = [];

        public List<string> Failures { get; } = [];

        public int Count { get; private set; }

        public string Summary => string.Join(", ", _byStatus.OrderBy(s => s.Key).Select(s => $"{s.Value} x {s.Key}"));

        private int _hangs;

        public async Task CheckAsync(string what, bool bad, Func<Task<HttpResponseMessage>> send)
        {
            Count++;
            if (_hangs >= MaxHangs) return;
            HttpResponseMessage response;
            try
            {
                response = await send();
            }
            catch (TaskCanceledException)
            {
                _hangs++;
                Failures.Add($"{what}: no answer within {AnswerTimeout.TotalSeconds} s{(_hangs == MaxHangs ? "; the rest was not sent" : "")}");
                return;
            }
            catch (HttpRequestException e)
            {
                Failures.Add($"{what}: the connection failed: {e.Message}");
                return;
            }
            using (response)
            {
                var status = (int)response.StatusCode;
                _byStatus[status] = _byStatus.GetValueOrDefault(status) + 1;
                var text = await response.Content.ReadAsStringAsync();
                if (status is >= 200 and < 300)
                {
                    if (bad) Failures.Add($"{what}: {status}, but it cannot be a valid request");
                    // An answer to odd input (NaN or infinite elements) must still be JSON a client can read.
                    else if (!IsJson(text)) Failures.Add($"{what}: {status} with a body that is not JSON: '{text[..Math.Min(300, text.Length)]}'");
                    return;
                }
                if (status is < 400 or >= 500)
                {
                    Failures.Add($"{what}: {status} {text[..Math.Min(300, text.Length)]}");
                    return;
                }
                if (Code(text) is null) Failures.Add($"{what}: {status} without a JSON code: '{text[..Math.Min(300, text.Length)]}'");
            }
        }

        private static bool IsJson(string text)
        {
            try
            {
                using var _ = JsonDocument.Parse(text);
                return true;
            }
            catch (JsonException)
            {
                return false;
            }
        }

        private static string? Code(string text)
        {
            try
            {
                using var json = JsonDocument.Parse(text);
                return json.RootElement.ValueKind == JsonValueKind.Object && json.RootElement.TryGetProperty("code", out var code)
                       && code.ValueKind == JsonValueKind.String && code.GetString() is { Length: > 0 } value ? value : null;
            }
            catch (JsonException)
            {
                return null;
            }
        }
    }
}
