using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using Confluent.Kafka;
using Mlops.Stream.Actors.Serving;
using Mlops.Stream.Faults;
using Mlops.Stream.Host.Tests.Infrastructure;
using Mlops.Stream.Kafka.Embedded;
using Mlops.Stream.Kafka.Topics;
using Xunit.Abstractions;

namespace Mlops.Stream.Host.Tests;

/// <summary>
/// SIGTERM under load, as a container runtime stops a node: the real program drains and exits 0 without
/// a shard region timing out; every HTTP request it accepted gets an answer (a connection refused
/// after it stopped listening was never accepted); and every Kafka request written meanwhile is
/// answered once a node runs again on the same broker: nothing accepted is lost.
/// </summary>
public sealed class SigtermTests(ITestOutputHelper output)
{
    private const string Model = "fraud-demo";

    [Fact]
    public async Task A_node_stopped_by_sigterm_under_load_answers_what_it_accepted_and_loses_no_record()
    {
        using var broker = EmbeddedKafka.Start();
        broker.CreateTopics(TopicCatalog.Default.DeclareAll([Model]));
        var topics = ModelTopics.For(TopicCatalog.Default, Model);
        using var registry = new TempDirectory("mlops-sigterm-");
        string[] Arguments() => TestNode.Arguments($"--Kafka:BootstrapServers={broker.BootstrapServers}", "--Kafka:FetchWait=00:00:00.005",
            $"--Registry:Path={registry.Path}", "--Logging:LogLevel:Microsoft.Hosting.Lifetime=Information");

        var first = HostProcess.Start(Arguments());
        HostProcess? second = null;
        try
        {
            using var http = new HttpClient { BaseAddress = await first.Listening.WaitAsync(HostProcess.Timeout), Timeout = TimeSpan.FromSeconds(60) };
            await Eventually.ReadsAsync(() => http.GetAsync($"/v2/models/{Model}/ready"), r => r.IsSuccessStatusCode, "the model is ready",
                HostProcess.Timeout, _ => first.Output);

            using var stopLoad = new CancellationTokenSource();
            var kafkaSent = 0;
            var answered = 0;
            var lostHttp = new ConcurrentQueue<string>();   // ids whose connection closed under them
            var producer = Task.Run(() => Produce(broker.BootstrapServers, topics.Requests, stopLoad.Token, n => kafkaSent = n));
            var clients = Enumerable.Range(0, 4).Select(c => Task.Run(() => HttpLoad(http, c, lostHttp, () => Interlocked.Increment(ref answered), stopLoad.Token))).ToList();
            await Eventually.HoldsAsync(() => kafkaSent > 300 && answered > 100, "load runs", HostProcess.Timeout);

            var exitCode = await first.TerminateAsync();
            output.WriteLine($"SIGTERM with {kafkaSent} Kafka requests written and {answered} HTTP answers; exit code {exitCode}");
            Assert.True(exitCode == 0, first.Output);
            Assert.DoesNotContain("timed out", first.Output, StringComparison.OrdinalIgnoreCase);

            // The load goes on for a moment against no node: Kafka takes the records, HTTP is refused at the door.
            var sentAtStop = kafkaSent;
            await Eventually.HoldsAsync(() => kafkaSent > sentAtStop + 100, "Kafka requests are written while no node runs", HostProcess.Timeout);
            await stopLoad.CancelAsync();
            await Task.WhenAll(clients.Append(producer));

            // A request the node served is in its served-events topic: each of those got its answer. A
            // connection closed under a request the node never processed (HTTP/1.1's keep-alive race:
            // the request met a connection being closed) was not accepted, and a client may send it again.
            var served = RequestIds(broker.BootstrapServers, topics.Served);
            var unanswered = lostHttp.Where(id => served.Contains(id)).ToList();
            Assert.Contains(served, id => id.StartsWith("http-", StringComparison.Ordinal));
            output.WriteLine($"{lostHttp.Count} HTTP request(s) met a closing connection, {unanswered.Count} of them served");
            Assert.True(unanswered.Count == 0, "HTTP requests served and not answered: " + string.Join(", ", unanswered));

            second = HostProcess.Start(Arguments());
            var ids = await Eventually.ReadsAsync(() => Task.FromResult(RequestIds(broker.BootstrapServers, topics.Predictions)),
                seen => Enumerable.Range(0, kafkaSent).All(i => seen.Contains($"kafka-{i}")),
                $"all {kafkaSent} Kafka requests have predictions", HostProcess.Timeout,
                seen => $"{Enumerable.Range(0, kafkaSent).Count(i => !seen.Contains($"kafka-{i}"))} missing", TimeSpan.FromSeconds(1));
            output.WriteLine($"{kafkaSent} Kafka requests, {ids.Count} answered");
        }
        finally
        {
            first.Dispose();
            second?.Dispose();
        }
    }

    [Fact]
    public async Task A_stopping_node_turns_unready_at_once_and_serves_on_through_its_drain_delay()
    {
        await using var node = await TestNode.StartAsync("--Shutdown:DrainDelay=00:00:05");
        (await node.WaitForOkAsync($"/v2/models/{Model}/ready")).Dispose();

        var stopping = node.App.StopAsync();
        var ready = await Eventually.ReadsAsync(() => node.Http.GetAsync("/healthz/ready"), r => r.StatusCode == HttpStatusCode.ServiceUnavailable,
            "readiness turns 503 when the node starts stopping", TimeSpan.FromSeconds(5));
        Assert.Contains("shutting down", await ready.Content.ReadAsStringAsync());
        Assert.False(stopping.IsCompleted);
        using (var infer = await node.Http.PostAsync($"/v2/models/{Model}/infer", JsonBody.From(DemoRequests.Body("during-drain-delay"))))
        {
            Assert.Equal(HttpStatusCode.OK, infer.StatusCode);
        }
        await stopping.WaitAsync(TimeSpan.FromMinutes(1));
    }

    private static async Task Produce(string bootstrap, string topic, CancellationToken stop, Action<int> sent)
    {
        using var kafka = new ProducerBuilder<string, byte[]>(new ProducerConfig { BootstrapServers = bootstrap, LingerMs = 5 }).Build();
        for (var i = 0; !stop.IsCancellationRequested; i++)
        {
            kafka.Produce(topic, DemoRequests.Record($"kafka-{i}"));
            sent(i + 1);
            if (i % 10 == 9) await Task.Delay(20, CancellationToken.None);
        }
        kafka.Flush(TimeSpan.FromSeconds(30));
    }

    /// <summary>
    /// Infers until stopped. An answer of any status is an answer; a connection refused means the node
    /// no longer listens. A connection closed after the request went out is noted by id, to be judged
    /// against what the node served.
    /// </summary>
    private static async Task HttpLoad(HttpClient http, int client, ConcurrentQueue<string> closed, Action answered, CancellationToken stop)
    {
        for (var i = 0; !stop.IsCancellationRequested; i++)
        {
            var id = $"http-{client}-{i}";
            try
            {
                using var response = await http.PostAsync($"/v2/models/{Model}/infer", JsonBody.From(DemoRequests.Body(id)), CancellationToken.None);
                answered();
            }
            catch (HttpRequestException e) when (e.InnerException is SocketException { SocketErrorCode: SocketError.ConnectionRefused })
            {
                await Task.Delay(50, CancellationToken.None);
            }
            catch (HttpRequestException)
            {
                closed.Enqueue(id);
            }
        }
    }

    /// <summary>The request ids of every record on the topic now (predictions, served events).</summary>
    private static HashSet<string> RequestIds(string bootstrap, string topic) =>
        [.. TopicReader.ReadAll(bootstrap, topic).Select(r => r.Header(ServingHeaders.RequestId)).OfType<string>()];
}
