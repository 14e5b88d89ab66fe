using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using Mlops.Stream.Bench.Cluster;
using Mlops.Stream.Demo;

namespace Mlops.Stream.Bench.Scenarios;

/// <summary>
/// HTTP far above capacity (issue 14, overload), on one node process: a model served one row at a
/// time with a small queue, first at a gentle pace (the baseline), then by many callers at once for a
/// while, then gently again. Prints how fast refusals come back (429 <c>queue_full</c>) against
/// served calls, the node's resident memory before, at its peak during, and after the load, and how
/// long after the load stops a call is served as fast as before it. Then a Kafka backlog larger than
/// the node serves at once: requests produced to the demo model's topic as fast as the producer can,
/// while calls one at a time go on over HTTP; prints the backlog's peak lag, its drain time, the HTTP
/// latency meanwhile and the node's memory during and after.
/// </summary>
public static class OverloadScenario
{
    public const string Usage = "overload: --callers N --seconds S --queue N --backlog N";

    private const string Model = "overload";
    private const int BaselineCalls = 200;

    public static async Task<BenchResult> RunAsync(BenchArgs args)
    {
        var callers = args.Int("callers", 128);
        var seconds = args.Int("seconds", 15);
        var queue = args.Int("queue", 4);
        var backlog = args.Int("backlog", 80_000);
        CheckBacklogFits(backlog);
        using var cluster = await LocalCluster.StartAsync(DemoModelBuilder.DefaultModelName, nodes: 1);
        var node = cluster.Nodes[0];
        using var http = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = callers * 2 })
        {
            BaseAddress = cluster.Http[0].BaseAddress,
            Timeout = TimeSpan.FromSeconds(60),
        };
        await RegisterAsync(http, queue);

        var before = await GentleAsync(http, "before");
        var rssBefore = node.Resident;

        // The flood: every caller sends back to back; memory sampled meanwhile.
        var served = new ConcurrentBag<double>();
        var refused = new ConcurrentBag<double>();
        var other = new ConcurrentDictionary<string, int>();
        var rssPeak = rssBefore;
        using (var stop = new CancellationTokenSource(TimeSpan.FromSeconds(seconds)))
        {
            var sampler = Task.Run(async () =>
            {
                while (!stop.IsCancellationRequested)
                {
                    rssPeak = Math.Max(rssPeak, node.Resident);
                    await Task.Delay(200, CancellationToken.None);
                }
            });
            var sent = 0;
            await Task.WhenAll(Enumerable.Range(0, callers).Select(caller => Task.Run(async () =>
            {
                while (!stop.IsCancellationRequested)
                {
                    var id = $"flood-{caller}-{Interlocked.Increment(ref sent)}";
                    var clock = Stopwatch.StartNew();
                    var outcome = await CallAsync(http, id);
                    var ms = clock.Elapsed.TotalMilliseconds;
                    if (outcome == "served") served.Add(ms);
                    else if (outcome == "refused") refused.Add(ms);
                    else other.AddOrUpdate(outcome, 1, (_, n) => n + 1);
                }
            })));
            await sampler;
        }

        // Recovery: from the end of the flood until a call is served as fast as the baseline's p99.
        var recovery = Stopwatch.StartNew();
        var threshold = Percentile(before, 0.99) * 2;
        while (recovery.Elapsed < TimeSpan.FromMinutes(1))
        {
            var clock = Stopwatch.StartNew();
            if (await CallAsync(http, $"recover-{recovery.ElapsedTicks}") == "served" && clock.Elapsed.TotalMilliseconds <= threshold) break;
        }
        var recoverySeconds = recovery.Elapsed.TotalSeconds;
        var after = await GentleAsync(http, "after");
        GC.KeepAlive(after);
        var rssAfter = node.Resident;

        var kafka = await BacklogAsync(cluster, backlog);

        const double MiB = 1024 * 1024;
        var result = new BenchResult("overload")
            .Add("callers", "callers during the flood", callers, "")
            .Add("flood_seconds", "flood duration", seconds, "s")
            .Add("queue", "model queue (max_queue_size)", queue, "requests")
            .Add("baseline_p50_ms", "gentle calls before, p50", Percentile(before, 0.5), "ms")
            .Add("baseline_p99_ms", "gentle calls before, p99", Percentile(before, 0.99), "ms")
            .Add("served", "served during the flood", served.Count, "calls")
            .Add("refused", "refused during the flood (429 queue_full)", refused.Count, "calls")
            .Add("other", "any other answer or none", other.Values.Sum(), "calls")
            .Add("served_p99_ms", "served during the flood, p99", Percentile([.. served], 0.99), "ms")
            .Add("refusal_p50_ms", "refusal latency p50", Percentile([.. refused], 0.5), "ms")
            .Add("refusal_p99_ms", "refusal latency p99", Percentile([.. refused], 0.99), "ms")
            .Add("recovery_seconds", "served as fast as before (p99 x2), after the flood", recoverySeconds, "s")
            .Add("after_p50_ms", "gentle calls after, p50", Percentile(after, 0.5), "ms")
            .Add("after_p99_ms", "gentle calls after, p99", Percentile(after, 0.99), "ms")
            .Add("rss_before_mib", "node RSS before", rssBefore / MiB, "MiB")
            .Add("rss_peak_mib", "node RSS peak during the flood", rssPeak / MiB, "MiB")
            .Add("rss_after_mib", "node RSS after", rssAfter / MiB, "MiB");
        result
            .Add("backlog", "Kafka backlog produced", backlog, "requests")
            .Add("backlog_peak_lag", "consumer lag at its peak", kafka.PeakLag, "records")
            .Add("backlog_drain_seconds", "from the first produced to all answered", kafka.DrainSeconds, "s")
            .Add("backlog_http_calls", "HTTP calls one at a time meanwhile", kafka.HttpLatencies.Length, "calls")
            .Add("backlog_http_p50_ms", "HTTP meanwhile, p50", Percentile(kafka.HttpLatencies, 0.5), "ms")
            .Add("backlog_http_p99_ms", "HTTP meanwhile, p99", Percentile(kafka.HttpLatencies, 0.99), "ms")
            .Add("backlog_rss_peak_mib", "node RSS peak during the backlog", kafka.RssPeak / MiB, "MiB")
            .Add("backlog_rss_after_mib", "node RSS after the backlog", kafka.RssAfter / MiB, "MiB");
        if (!other.IsEmpty)
            result.Note("other_answers", other.ToDictionary(o => o.Key, o => o.Value));
        return result;
    }

    /// <summary>
    /// The embedded broker drops a partition's oldest records beyond about 5 MiB: a larger backlog
    /// would lose requests to the broker, not to us (the scenario 12), so it is refused up front.
    /// </summary>
    private static void CheckBacklogFits(int count)
    {
        var requests = Actors.Serving.ModelTopics.For(Kafka.Topics.TopicCatalog.Default, DemoModelBuilder.DefaultModelName).Requests;
        var partitions = Kafka.Topics.TopicCatalog.Default.DeclareAll([DemoModelBuilder.DefaultModelName]).Single(d => d.Name == requests).Partitions;
        if (Faults.BrokerLogCap.Refusal($"--backlog {count}", count, DemoRequests.Body("backlog-000000").Length, partitions) is { } refusal)
            throw new ArgumentException(refusal);
    }

    private sealed record BacklogFigures(double PeakLag, double DrainSeconds, double[] HttpLatencies, long RssPeak, long RssAfter);

    /// <summary>
    /// Produces <paramref name="count"/> requests to the demo model's request topic while HTTP calls
    /// to it go on one at a time, until the node has answered them all (from Kafka).
    /// </summary>
    private static async Task<BacklogFigures> BacklogAsync(LocalCluster cluster, int count)
    {
        var node = cluster.Nodes[0];
        var answeredBefore = await cluster.MetricAsync(0, "mlops_requests_total", ("model", cluster.Model), ("source", "kafka"));
        var clock = Stopwatch.StartNew();
        var producing = Task.Run(() =>
        {
            using var producer = new Confluent.Kafka.ProducerBuilder<string, byte[]>(
                new Confluent.Kafka.ProducerConfig { BootstrapServers = cluster.Broker.BootstrapServers, LingerMs = 20 }).Build();
            for (var i = 0; i < count; i++) DemoRequests.ProduceWhenRoom(producer, cluster.Topics.Requests, DemoRequests.Record($"backlog-{i}"));
            producer.Flush(TimeSpan.FromMinutes(2));
        });
        var latencies = new List<double>();
        double peakLag = 0;
        long rssPeak = 0;
        var lastLook = TimeSpan.Zero;
        while (clock.Elapsed < TimeSpan.FromMinutes(10))
        {
            var call = Stopwatch.StartNew();
            var outcome = await CallAsync(cluster.Http[0], $"during-backlog-{latencies.Count}", cluster.Model);
            if (outcome != "served") throw new InvalidOperationException($"an HTTP call during the backlog was answered '{outcome}'");
            latencies.Add(call.Elapsed.TotalMilliseconds);
            if (clock.Elapsed - lastLook < TimeSpan.FromMilliseconds(500)) continue;
            lastLook = clock.Elapsed;
            rssPeak = Math.Max(rssPeak, node.Resident);
            peakLag = Math.Max(peakLag, await cluster.MetricAsync(0, "mlops_consumer_lag_records", ("model", cluster.Model)));
            var answered = await cluster.MetricAsync(0, "mlops_requests_total", ("model", cluster.Model), ("source", "kafka")) - answeredBefore;
            if (producing.IsCompleted && answered >= count) break;
        }
        await producing;
        var drain = clock.Elapsed.TotalSeconds;
        var answeredInAll = await cluster.MetricAsync(0, "mlops_requests_total", ("model", cluster.Model), ("source", "kafka")) - answeredBefore;
        if (answeredInAll < count) throw new TimeoutException($"only {answeredInAll} of the {count} backlog requests were answered within {drain:F0} s");
        return new BacklogFigures(peakLag, drain, [.. latencies], rssPeak, node.Resident);
    }

    /// <summary>Calls one at a time; returns their latencies in milliseconds.</summary>
    private static async Task<double[]> GentleAsync(HttpClient http, string name)
    {
        var latencies = new List<double>();
        for (var i = 0; i < BaselineCalls; i++)
        {
            var clock = Stopwatch.StartNew();
            var outcome = await CallAsync(http, $"{name}-{i}");
            if (outcome != "served") throw new InvalidOperationException($"a gentle call ({name}) was answered '{outcome}'");
            latencies.Add(clock.Elapsed.TotalMilliseconds);
        }
        return [.. latencies];
    }

    /// <summary>served, refused (429 queue_full), or what else came back.</summary>
    private static async Task<string> CallAsync(HttpClient http, string id, string model = Model)
    {
        try
        {
            using var response = await http.PostAsync($"/v2/models/{model}/infer", JsonBody(DemoRequests.Body(id)));
            if (response.StatusCode == HttpStatusCode.OK) return "served";
            var body = await response.Content.ReadAsStringAsync();
            return response.StatusCode == HttpStatusCode.TooManyRequests && body.Contains("queue_full", StringComparison.Ordinal)
                ? "refused"
                : $"http {(int)response.StatusCode}";
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
        {
            return $"no answer ({e.GetType().Name})";
        }
    }

    /// <summary>The demo network as <see cref="Model"/>, one row per batch and a queue of <paramref name="queue"/>, promoted and ready.</summary>
    private static async Task RegisterAsync(HttpClient http, int queue)
    {
        using var content = new MultipartFormDataContent
        {
            { new ByteArrayContent(DemoModelBuilder.Build(Model, seed: 5).OnnxModel), "file", "model.onnx" },
            { new StringContent($$$"""{"batching":{"max_batch_size":1,"max_queue_size":{{{queue}}}}}"""), "manifest" },
        };
        using (var registered = await http.PostAsync($"/api/v1/models/{Model}/versions", content))
            if (!registered.IsSuccessStatusCode) throw new InvalidOperationException(await registered.Content.ReadAsStringAsync());
        using (var promoted = await http.PostAsJsonAsync($"/api/v1/models/{Model}/promote?wait_seconds=60", new { version = 1 }))
            if (promoted.StatusCode != HttpStatusCode.OK) throw new InvalidOperationException(await promoted.Content.ReadAsStringAsync());
    }

    private static ByteArrayContent JsonBody(byte[] body)
    {
        var content = new ByteArrayContent(body);
        content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("application/json");
        return content;
    }

    /// <summary>The nearest-rank quantile of unsorted latencies.</summary>
    private static double Percentile(double[] values, double p) => ReplicaBench.Percentile([.. values.Order()], p);
}
