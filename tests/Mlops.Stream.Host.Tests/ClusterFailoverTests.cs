using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Net.Sockets;
using System.Text.Json;
using Confluent.Kafka;
using Mlops.Stream.Actors.Serving;
using Mlops.Stream.Host.Tests.Infrastructure;
using Mlops.Stream.Kafka.Embedded;
using Mlops.Stream.Kafka.Topics;
using Xunit.Abstractions;

namespace Mlops.Stream.Host.Tests;

/// <summary>
/// Issue 10, scale-out: three nodes (separate processes, so the kill is a real <c>kill -9</c>) on one
/// registry folder and one broker. Each node hosts one replica of the model, the replicas share the
/// request topic's partitions, and each node answers HTTP from its own replica. Under steady Kafka
/// and HTTP load one node leaves and then another is killed: no Kafka request is lost, no HTTP
/// request to the surviving node fails, and it stays ready throughout.
/// </summary>
public sealed class ClusterFailoverTests(ITestOutputHelper output)
{
    private const string Model = "fraud-demo";
    private static readonly TimeSpan Timeout = TimeSpan.FromMinutes(2);

    [Fact]
    public async Task Three_nodes_share_the_model_and_lose_nothing_when_one_leaves_and_another_is_killed()
    {
        using var broker = EmbeddedKafka.Start();
        broker.CreateTopics(TopicCatalog.Default.DeclareAll([Model]));
        var topics = ModelTopics.For(TopicCatalog.Default, Model);
        using var registry = new TempDirectory("mlops-cluster-registry-");

        // Node 0 gets the lowest address: once one node has left, the two left are an even split when
        // one is killed, and keep-majority then keeps the side with the lowest address.
        var ports = FreePorts(3);
        var addresses = ports.Select(p => $"akka.tcp://mlops@127.0.0.1:{p}").ToArray();
        var nodes = new List<HostProcess>();
        try
        {
            foreach (var port in ports)
                nodes.Add(HostProcess.Start(NodeArguments(port, addresses[0], broker.BootstrapServers, registry.Path)));
            var urls = await Task.WhenAll(nodes.Select(n => n.Listening.WaitAsync(Timeout)));
            var http = urls.Select(u => new HttpClient { BaseAddress = u, Timeout = TimeSpan.FromSeconds(60) }).ToArray();

            // Replicas spread: each node hosts exactly one replica of the model.
            await Eventually.HoldsAsync(async () =>
            {
                var perNode = await ReplicasPerNode(http[0]);
                return addresses.All(a => perNode.GetValueOrDefault(a) == 1);
            }, "each of the three nodes hosts one replica", Timeout, () => string.Join(Environment.NewLine, nodes.Select(n => n.Output)));

            // Partitions spread: the local replica of each node consumes 2 or 3 of the 8, together all of them.
            var partitions = await Eventually.ReadsAsync(() => Task.WhenAll(http.Select(LocalPartitions)),
                all => all.All(p => p.Length is 2 or 3) && all.SelectMany(p => p).Order().SequenceEqual(Enumerable.Range(0, 8)),
                "the replicas divide the 8 partitions", Timeout, all => string.Join(" | ", all.Select(p => string.Join(",", p))));
            output.WriteLine($"partitions per node: {string.Join(" | ", partitions.Select(p => string.Join(",", p)))}");

            // HTTP on each node is served by its own replica: its count grows by exactly what was sent to that node.
            for (var i = 0; i < 3; i++)
            {
                var before = await ServedByLocalReplica(http[i]);
                for (var r = 0; r < 20; r++)
                {
                    using var response = await http[i].PostAsync($"/v2/models/{Model}/infer", JsonBody.From(DemoRequests.Body($"local-{i}-{r}")));
                    Assert.Equal(HttpStatusCode.OK, response.StatusCode);
                }
                Assert.Equal(before + 20, await ServedByLocalReplica(http[i]));
            }

            // Every replica answers for itself across nodes: node 0 sees all three serving, with their partitions.
            await Eventually.HoldsAsync(async () =>
            {
                var replicas = await http[0].GetFromJsonAsync<JsonElement>($"/api/v1/models/{Model}/replicas");
                return replicas.GetArrayLength() == 3 && replicas.EnumerateArray().All(r => r.GetProperty("state").GetString() == "ready"
                    && r.GetProperty("partitions").GetArrayLength() > 0);
            }, "node 0 lists three serving replicas with their partitions", Timeout);

            // Scaled to two replicas: one is retired, and the node left without one serves HTTP through a replica elsewhere.
            // Operators watching the replicas meanwhile must not bring the retired one back (a status query never starts a replica).
            using var stopWatching = new CancellationTokenSource();
            var watching = Task.Run(async () =>
            {
                while (!stopWatching.IsCancellationRequested)
                    (await http[0].GetAsync($"/api/v1/models/{Model}/replicas", CancellationToken.None)).Dispose();
            });
            using (var scale = await http[0].PostAsJsonAsync($"/api/v1/models/{Model}/scale", new { replicas = 2 }))
                Assert.True(scale.IsSuccessStatusCode, await scale.Content.ReadAsStringAsync());
            var withoutReplica = await Eventually.ReadsAsync(async () =>
            {
                var perNode = await ReplicasPerNode(http[0]);
                return perNode.Values.Sum() == 2 ? Array.FindIndex(addresses, a => perNode.GetValueOrDefault(a) == 0) : -1;
            }, index => index >= 0, "one replica is retired", Timeout);
            for (var check = 0; check < 10; check++)
            {
                var perNode = await ReplicasPerNode(http[0]);
                Assert.True(perNode.Values.Sum() == 2, $"a retired replica came back: {string.Join(", ", perNode)}");
                (await http[0].GetAsync($"/api/v1/models/{Model}/replicas")).Dispose();
            }
            await stopWatching.CancelAsync();
            await watching;
            for (var r = 0; r < 20; r++)
            {
                using var response = await http[withoutReplica].PostAsync($"/v2/models/{Model}/infer", JsonBody.From(DemoRequests.Body($"remote-{r}")));
                Assert.True(response.StatusCode == HttpStatusCode.OK, await response.Content.ReadAsStringAsync());
            }
            using (var scale = await http[0].PostAsJsonAsync($"/api/v1/models/{Model}/scale", new { replicas = (int?)null }))
                Assert.True(scale.IsSuccessStatusCode, await scale.Content.ReadAsStringAsync());
            await Eventually.HoldsAsync(async () => (await Task.WhenAll(http.Select(LocalPartitions))).All(p => p.Length is 2 or 3),
                "back to one replica per node, each consuming its share", Timeout);

            // Steady load: Kafka requests, HTTP clients on every node, readiness probes on the survivor.
            using var stopAll = new CancellationTokenSource();
            var stopNode = Enumerable.Range(0, 3).Select(_ => CancellationTokenSource.CreateLinkedTokenSource(stopAll.Token)).ToArray();
            var httpFailures = new ConcurrentQueue<string>();
            var unready = new ConcurrentQueue<string>();
            var kafkaSent = 0;
            var producer = Task.Run(() => Produce(broker.BootstrapServers, topics.Requests, stopAll.Token, n => kafkaSent = n));
            var clients = Enumerable.Range(0, 3).Select(i => Task.Run(() => HttpLoad(http[i], i, httpFailures, stopNode[i].Token))).ToArray();
            var probe = Task.Run(() => ProbeReadiness(http[0], unready, stopAll.Token));

            await Eventually.HoldsAsync(() => kafkaSent > 1000, "the load runs", Timeout);

            // A graceful leave of node 2: its replica drains and commits, and restarts on a survivor.
            // A node counts the duplicates it writes; what a leaving or killed node counted is read before it goes.
            await stopNode[2].CancelAsync();
            await clients[2];
            var duplicatesCountedByGone = await SettledDuplicates(http[2]);
            using (var leave = await http[0].PostAsJsonAsync("/api/v1/cluster/leave", new { address = addresses[2] }))
                Assert.True(leave.IsSuccessStatusCode, await leave.Content.ReadAsStringAsync());
            await Eventually.HoldsAsync(async () => (await MemberAddresses(http[0])).SequenceEqual(addresses[..2]),
                "node 2 has left the cluster", Timeout);
            var sentAtLeave = kafkaSent;
            await Eventually.HoldsAsync(() => kafkaSent > sentAtLeave + 1000, "the load runs on after the leave", Timeout);

            // kill -9 of node 1: node 0 takes its partitions and its replica.
            await stopNode[1].CancelAsync();
            await clients[1];
            duplicatesCountedByGone += await SettledDuplicates(http[1]);
            var killedAt = Stopwatch.StartNew();
            nodes[1].Kill();
            var timeline = new List<string>();
            await Eventually.ReadsAsync(async () =>
            {
                var replicas = await http[0].GetFromJsonAsync<JsonElement>($"/api/v1/models/{Model}/replicas");
                var line = string.Join(" ", replicas.EnumerateArray().Select(r =>
                    $"{r.GetProperty("replica").GetString()}{(r.GetProperty("local").GetBoolean() ? "(here)" : "")}" +
                    $"{(r.GetProperty("reachable").GetBoolean() ? "" : "(unreachable)")}:{r.GetProperty("state").GetString()}" +
                    $"[{string.Join(",", r.GetProperty("partitions").EnumerateArray().Select(p => p.GetInt32()))}]"));
                if (timeline.Count == 0 || !timeline[^1].EndsWith(line, StringComparison.Ordinal))
                    timeline.Add($"+{killedAt.Elapsed.TotalSeconds:F1} s {line}");
                return await LocalPartitionsOfAll(http[0]);
            }, p => p.Order().SequenceEqual(Enumerable.Range(0, 8)),
                "node 0 consumes every partition after the kill", Timeout, p => string.Join(",", p));
            foreach (var line in timeline) output.WriteLine(line);
            output.WriteLine($"all partitions consumed on node 0 {killedAt.Elapsed.TotalSeconds:F1} s after the kill");
            var sentAtTakeOver = kafkaSent;
            await Eventually.HoldsAsync(() => kafkaSent > sentAtTakeOver + 500, "the load runs on after the kill", Timeout);

            await stopAll.CancelAsync();
            await Task.WhenAll(clients.Append(producer).Append(probe));

            var predictions = ReadPredictionIds(broker.BootstrapServers, topics.Predictions, kafkaSent);
            var distinct = predictions.ToHashSet();
            var lost = Enumerable.Range(0, kafkaSent).Select(i => $"kafka-{i}").Where(id => !distinct.Contains(id)).ToList();
            var duplicates = predictions.Count - distinct.Count;
            var counted = await Eventually.ReadsAsync(async () => duplicatesCountedByGone + await CountedDuplicates(http[0]),
                total => total == duplicates, $"the nodes count the {duplicates} duplicate predictions", Timeout, total => $"{total}");
            output.WriteLine($"Kafka sent {kafkaSent}, predictions {predictions.Count}, duplicates {duplicates}, lost {lost.Count}; " +
                             $"duplicates counted in /metrics: {counted} ({duplicatesCountedByGone} by the nodes that left and were killed)");
            Assert.Empty(lost);
            Assert.Empty(httpFailures);
            Assert.Empty(unready);
        }
        finally
        {
            foreach (var node in nodes) node.Dispose();
        }
    }

    private static string[] NodeArguments(int port, string seed, string bootstrap, string registry) =>
    [
        "--Http:Url=http://127.0.0.1:0", "--Grpc:Url=http://127.0.0.1:0", $"--Akka:Port={port}", $"--Akka:SeedNodes:0={seed}",
        $"--Kafka:BootstrapServers={bootstrap}", "--Kafka:FetchWait=00:00:00.005", $"--Registry:Path={registry}",
        "--Logging:LogLevel:Default=Warning", "--Logging:LogLevel:Microsoft.Hosting.Lifetime=Information",
    ];

    private static int[] FreePorts(int count)
    {
        var listeners = Enumerable.Range(0, count).Select(_ => new TcpListener(IPAddress.Loopback, 0)).ToList();
        try
        {
            foreach (var listener in listeners) listener.Start();
            return [.. listeners.Select(l => ((IPEndPoint)l.LocalEndpoint).Port).Order()];
        }
        finally
        {
            foreach (var listener in listeners) listener.Stop();
        }
    }

    /// <summary>Replicas of the model per member address, from <c>/api/v1/shards</c>.</summary>
    private static async Task<Dictionary<string, int>> ReplicasPerNode(HttpClient http)
    {
        var shards = await http.GetFromJsonAsync<JsonElement>("/api/v1/shards");
        return shards.GetProperty("nodes").EnumerateArray().ToDictionary(
            n => n.GetProperty("address").GetString()!,
            n => n.GetProperty("shards").EnumerateArray().SelectMany(s => s.GetProperty("entities").EnumerateArray())
                .Count(e => e.GetProperty("model").GetString() == Model));
    }

    private static async Task<string[]> MemberAddresses(HttpClient http)
    {
        var cluster = await http.GetFromJsonAsync<JsonElement>("/api/v1/cluster");
        return [.. cluster.GetProperty("members").EnumerateArray().Select(m => m.GetProperty("address").GetString()!).Order(StringComparer.Ordinal)];
    }

    /// <summary>The partitions the node's own replica consumes (its model status answers from it).</summary>
    private static async Task<int[]> LocalPartitions(HttpClient http)
    {
        var model = await http.GetFromJsonAsync<JsonElement>($"/api/v1/models/{Model}");
        return model.TryGetProperty("kafka_stream", out var stream) && stream.ValueKind == JsonValueKind.Object
            ? [.. stream.GetProperty("partitions").EnumerateArray().Select(p => p.GetInt32())]
            : [];
    }

    /// <summary>The partitions every replica on the node consumes: each replica's status, asked through the node's shard listing.</summary>
    private static async Task<int[]> LocalPartitionsOfAll(HttpClient http)
    {
        var replicas = await http.GetFromJsonAsync<JsonElement>($"/api/v1/models/{Model}/replicas");
        return [.. replicas.EnumerateArray()
            .Where(r => r.GetProperty("local").GetBoolean())
            .SelectMany(r => r.GetProperty("partitions").EnumerateArray().Select(p => p.GetInt32()))];
    }

    /// <summary>
    /// The node's duplicate count once it has finished reading the earlier answers of every
    /// partition it took over (<c>mlops_kafka_duplicate_checks_open</c> is 0): the count of a node
    /// about to go is read here, so what it would count later is not lost with it.
    /// </summary>
    private static async Task<double> SettledDuplicates(HttpClient http)
    {
        await Eventually.HoldsAsync(async () => new PrometheusText(await http.GetStringAsync("/metrics")).Sum("mlops_kafka_duplicate_checks_open") == 0,
            "the node has settled its duplicate checks", Timeout);
        return await CountedDuplicates(http);
    }

    private static async Task<double> CountedDuplicates(HttpClient http) =>
        new PrometheusText(await http.GetStringAsync("/metrics")).Sum("mlops_kafka_duplicates_total");

    private static async Task<long> ServedByLocalReplica(HttpClient http)
    {
        var model = await http.GetFromJsonAsync<JsonElement>($"/api/v1/models/{Model}");
        return model.GetProperty("version_stats").EnumerateArray().Sum(v => v.GetProperty("served").GetInt64());
    }

    private static async Task Produce(string bootstrap, string topic, CancellationToken stop, Action<int> sent)
    {
        using var kafka = new ProducerBuilder<string, byte[]>(new ProducerConfig { BootstrapServers = bootstrap, LingerMs = 5 }).Build();
        for (var i = 0; !stop.IsCancellationRequested; i++)
        {
            var id = $"kafka-{i}";
            kafka.Produce(topic, DemoRequests.Record(id));
            sent(i + 1);
            if (i % 10 == 9) await Task.Delay(20, CancellationToken.None);   // a few hundred requests a second
        }
        kafka.Flush(TimeSpan.FromSeconds(30));
    }

    private static async Task HttpLoad(HttpClient http, int node, ConcurrentQueue<string> failures, CancellationToken stop)
    {
        for (var i = 0; !stop.IsCancellationRequested; i++)
        {
            using var response = await http.PostAsync($"/v2/models/{Model}/infer", JsonBody.From(DemoRequests.Body($"http-{node}-{i}")), CancellationToken.None);
            if (response.StatusCode != HttpStatusCode.OK)
                failures.Enqueue($"node {node} at {DateTime.UtcNow:HH:mm:ss.fff}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
        }
    }

    private static async Task ProbeReadiness(HttpClient http, ConcurrentQueue<string> unready, CancellationToken stop)
    {
        while (!stop.IsCancellationRequested)
        {
            using (var response = await http.GetAsync("/healthz/ready", CancellationToken.None))
            {
                if (response.StatusCode != HttpStatusCode.OK)
                    unready.Enqueue($"{DateTime.UtcNow:HH:mm:ss.fff}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
            }
            try { await Task.Delay(250, stop); }
            catch (OperationCanceledException) { return; }
        }
    }

    private static List<string> ReadPredictionIds(string bootstrap, string topic, int expected)
    {
        var config = new ConsumerConfig
        {
            BootstrapServers = bootstrap, GroupId = $"reader-{Guid.NewGuid():N}", AutoOffsetReset = AutoOffsetReset.Earliest,
            EnableAutoCommit = false, FetchWaitMaxMs = 10,
        };
        using var consumer = new ConsumerBuilder<string, byte[]>(config).Build();
        consumer.Subscribe(topic);
        var ids = new List<string>();
        var distinct = new HashSet<string>();
        var kafkaIds = 0;
        var deadline = DateTime.UtcNow + TimeSpan.FromMinutes(1);
        // Until every id is seen, then a moment longer so late duplicates are counted too.
        DateTime? complete = null;
        while (DateTime.UtcNow < deadline && (complete is null || DateTime.UtcNow - complete < TimeSpan.FromSeconds(2)))
        {
            if (consumer.Consume(TimeSpan.FromMilliseconds(200)) is not { Message: { } message }) continue;
            var id = ServingHeaders.Read(message.Headers, ServingHeaders.RequestId)!;
            ids.Add(id);
            if (distinct.Add(id) && id.StartsWith("kafka-", StringComparison.Ordinal) && ++kafkaIds >= expected)
                complete ??= DateTime.UtcNow;
        }
        consumer.Close();
        return [.. ids.Where(id => id.StartsWith("kafka-", StringComparison.Ordinal))];
    }
}
