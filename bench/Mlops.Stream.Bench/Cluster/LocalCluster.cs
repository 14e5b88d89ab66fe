using System.Net;
using System.Net.Http.Json;
using System.Net.Sockets;
using System.Text.Json;
using Mlops.Stream.Actors.Serving;
using Mlops.Stream.Faults;
using Mlops.Stream.Kafka.Embedded;
using Mlops.Stream.Kafka.Topics;

namespace Mlops.Stream.Bench.Cluster;

/// <summary>One replica as <c>GET /api/v1/models/{model}/replicas</c> lists it.</summary>
public sealed record ReplicaView(string Replica, string Node, string State, bool Reachable, int[] Partitions);

/// <summary>
/// A real cluster on one machine, set up as the cluster failover test does: an in-process embedded
/// broker with the model's topics created up front, and node processes on one shared registry
/// folder (the first node to start creates the demo model in it), the first node being the seed.
/// Dispose kills every node still running (by process id), stops the broker and deletes the registry.
/// </summary>
public sealed class LocalCluster : IDisposable
{
    private static readonly TimeSpan StartTimeout = TimeSpan.FromMinutes(3);

    private readonly List<NodeProcess> _nodes = [];
    private readonly string _registry;

    private readonly string[] _extraArguments;

    private LocalCluster(EmbeddedKafka broker, string registry, string model, string[] extraArguments)
    {
        Broker = broker;
        _registry = registry;
        _extraArguments = extraArguments;
        Model = model;
        Topics = ModelTopics.For(TopicCatalog.Default, model);
    }

    public EmbeddedKafka Broker { get; }

    public string Model { get; }

    public ModelTopics Topics { get; }

    /// <summary>Akka addresses of the nodes, in node order; node 0 is the seed.</summary>
    public string[] Addresses { get; private set; } = [];

    public NodeProcess[] Nodes { get; private set; } = [];

    public HttpClient[] Http { get; private set; } = [];

    /// <summary>The registry folder the nodes share (the first node to start writes the demo model there).</summary>
    public string RegistryPath => _registry;

    /// <param name="requestPartitions">Partitions of the model's request topic; the topic catalog's count when null.</param>
    /// <param name="extraArguments">Arguments added to every node's command line (settings such as <c>--Inference:KafkaInFlight=512</c>).</param>
    /// <param name="brokers">Brokers of the embedded cluster (a partition leader can move only with two or more).</param>
    /// <param name="beforeNodes">Done once the topics exist and before any node starts (a backlog written while nobody reads).</param>
    public static async Task<LocalCluster> StartAsync(string model, int nodes, int? requestPartitions = null, IEnumerable<string>? extraArguments = null,
        int brokers = 1, Action<EmbeddedKafka, ModelTopics>? beforeNodes = null)
    {
        var broker = EmbeddedKafka.Start(brokers);
        var registry = Path.Combine(Path.GetTempPath(), "mlops-bench-cluster-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(registry);
        var cluster = new LocalCluster(broker, registry, model, [.. extraArguments ?? []]);
        try
        {
            // The embedded broker has no CreateTopics call: every topic the nodes use exists before they start.
            broker.CreateTopics(TopicCatalog.Default.DeclareAll([model]).Select(d =>
                d.Name == cluster.Topics.Requests && requestPartitions is { } partitions ? d with { Partitions = partitions } : d));
            beforeNodes?.Invoke(broker, cluster.Topics);
            await cluster.StartNodesAsync(nodes);
            return cluster;
        }
        catch
        {
            cluster.Dispose();
            throw;
        }
    }

    private async Task StartNodesAsync(int count)
    {
        var ports = FreePorts(count);
        Addresses = [.. ports.Select(p => $"akka.tcp://mlops@127.0.0.1:{p}")];
        foreach (var port in ports)
            _nodes.Add(NodeProcess.Start(NodeArguments(port, [Addresses[0]])));
        Nodes = [.. _nodes];
        try
        {
            var urls = await Task.WhenAll(_nodes.Select(n => n.Listening.WaitAsync(StartTimeout)));
            Http = [.. urls.Select(u => new HttpClient { BaseAddress = u, Timeout = TimeSpan.FromSeconds(30) })];
        }
        catch (TimeoutException)
        {
            throw new TimeoutException($"a node did not start listening within {StartTimeout}:{Environment.NewLine}{Tails()}");
        }
    }

    private string[] NodeArguments(int port, IReadOnlyList<string> seeds) =>
    [
        "--Http:Url=http://127.0.0.1:0", "--Grpc:Url=http://127.0.0.1:0", $"--Akka:Port={port}",
        .. seeds.Select((seed, i) => $"--Akka:SeedNodes:{i}={seed}"),
        $"--Kafka:BootstrapServers={Broker.BootstrapServers}",
        // The embedded broker answers a fetch only when its wait runs out: nodes ask with a short one.
        "--Kafka:FetchWait=00:00:00.005", $"--Registry:Path={_registry}",
        "--Logging:LogLevel:Default=Warning", "--Logging:LogLevel:Microsoft.Hosting.Lifetime=Information",
        .. _extraArguments,
    ];

    /// <summary>Sets a fixed replica count with the admin API (on node 0, the seed, which is never killed).</summary>
    public async Task ScaleAsync(int replicas)
    {
        using var response = await Http[0].PostAsJsonAsync($"/api/v1/models/{Model}/scale", new { replicas });
        if (!response.IsSuccessStatusCode)
            throw new InvalidOperationException($"scale to {replicas} refused: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
    }

    public async Task<ReplicaView[]> ReplicasAsync(int node = 0)
    {
        var replicas = await Http[node].GetFromJsonAsync<JsonElement>($"/api/v1/models/{Model}/replicas");
        return [.. replicas.EnumerateArray().Select(r => new ReplicaView(
            r.GetProperty("replica").GetString()!, r.GetProperty("node").GetString()!, r.GetProperty("state").GetString()!,
            r.GetProperty("reachable").GetBoolean(), [.. r.GetProperty("partitions").EnumerateArray().Select(p => p.GetInt32())]))];
    }

    /// <summary>
    /// Waits until node 0 lists exactly <paramref name="replicas"/> replicas, all reachable and ready,
    /// sharing the request topic's partitions evenly: the model is consuming at that scale.
    /// </summary>
    public async Task<ReplicaView[]> WaitForReplicasAsync(int replicas, int partitions, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        var last = Array.Empty<ReplicaView>();
        while (DateTime.UtcNow < deadline)
        {
            try
            {
                // The replica listing asks each replica through sharding, and a message to a replica that
                // is passivating (retired by a scale-down) or just stopped starts it again (seen: a retired
                // replica back to "loading"). So wait on the shard listing, which asks no replica, until the
                // retired ones are gone, and a little longer, past the nodes' 1 s replica locator refresh,
                // so the listing no longer knows them.
                if (await ShardedReplicasAsync() != replicas)
                {
                    await Task.Delay(500);
                    continue;
                }
                await Task.Delay(TimeSpan.FromSeconds(3));
                if (await ShardedReplicasAsync() != replicas) continue;
                last = await ReplicasAsync();
                if (last.Length == replicas && last.All(r => r.State == "ready" && r.Reachable) && Balanced(last, partitions))
                    return last;
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
            {
                // A node busy with a rebalance may answer late: ask again.
            }
            await Task.Delay(500);
        }
        throw new TimeoutException($"{replicas} ready replicas sharing {partitions} partitions not reached within {timeout}; last: " +
            string.Join(" ", last.Select(r => $"{r.Replica}@{r.Node}:{r.State}[{string.Join(",", r.Partitions)}]")));
    }

    /// <summary>
    /// Every partition consumed by exactly one replica, and each replica consuming its even share
    /// (8 over 3 is 2 or 3). A replica reports ready before the consumer group gives it partitions,
    /// so "ready and covering all partitions" alone would let one replica still hold all of them.
    /// </summary>
    private static bool Balanced(ReplicaView[] replicas, int partitions) =>
        replicas.SelectMany(r => r.Partitions).Order().SequenceEqual(Enumerable.Range(0, partitions))
        && replicas.All(r => r.Partitions.Length >= partitions / replicas.Length);

    /// <summary>Replicas of the model running anywhere, from <c>/api/v1/shards</c> (as the cluster failover test counts them).</summary>
    private async Task<int> ShardedReplicasAsync()
    {
        var shards = await Http[0].GetFromJsonAsync<JsonElement>("/api/v1/shards");
        return shards.GetProperty("nodes").EnumerateArray()
            .SelectMany(n => n.GetProperty("shards").EnumerateArray())
            .SelectMany(s => s.GetProperty("entities").EnumerateArray())
            .Count(e => e.GetProperty("model").GetString() == Model);
    }

    /// <summary>The node index of an Akka address from the replica listing.</summary>
    public int NodeOf(string address) => Array.IndexOf(Addresses, address);

    /// <summary>
    /// The sum of every series of a Prometheus counter on one node's <c>/metrics</c> that carries all
    /// of <paramref name="labels"/> (so <c>mlops_requests_total</c> with model and source sums over versions and outcomes).
    /// </summary>
    public async Task<double> MetricAsync(int node, string name, params (string Name, string Value)[] labels) =>
        (await PrometheusText.ScrapeAsync(Http[node])).Sum(name, labels);

    public string Tails() => string.Join(Environment.NewLine,
        _nodes.Select((n, i) => $"--- node {i} (pid {n.Id}) ---{Environment.NewLine}{n.Tail}"));

    /// <summary>Kills node <paramref name="node"/> as <c>kill -9</c> does: no goodbye to the cluster or to Kafka.</summary>
    public void KillNode(int node) => _nodes[node].Kill();

    /// <summary>Stops node <paramref name="node"/> with SIGTERM, as an orchestrator would, and waits for it to exit.</summary>
    public Task StopNodeAsync(int node) => _nodes[node].TerminateAsync(StartTimeout);

    /// <summary>
    /// Starts node <paramref name="node"/> again on its Akka port (a new incarnation of the same
    /// address) and waits until it listens. It joins through the other nodes, never through itself:
    /// a seed that listed only itself would found a second cluster.
    /// </summary>
    public async Task RestartNodeAsync(int node)
    {
        var port = int.Parse(Addresses[node][(Addresses[node].LastIndexOf(':') + 1)..], System.Globalization.CultureInfo.InvariantCulture);
        _nodes[node].Dispose();
        _nodes[node] = NodeProcess.Start(NodeArguments(port, [.. Addresses.Where((_, i) => i != node)]));
        Nodes = [.. _nodes];
        var url = await _nodes[node].Listening.WaitAsync(StartTimeout);
        var previous = Http[node];
        Http[node] = new HttpClient { BaseAddress = url, Timeout = TimeSpan.FromSeconds(30) };
        previous.Dispose();
    }

    /// <summary>Kills every node process still running, by its id (Ctrl+C and Dispose).</summary>
    public void KillNodes()
    {
        foreach (var node in _nodes)
        {
            try { node.Dispose(); }
            catch (Exception e) { Console.Error.WriteLine($"could not stop node pid {node.Id}: {e.Message}"); }
        }
        _nodes.Clear();
    }

    public void Dispose()
    {
        foreach (var http in Http) http.Dispose();
        KillNodes();
        Broker.Dispose();
        try { Directory.Delete(_registry, recursive: true); }
        catch (IOException e) { Console.Error.WriteLine($"could not delete {_registry}: {e.Message}"); }
    }

    private static int[] FreePorts(int count)
    {
        var listeners = Enumerable.Range(0, count).Select(_ => new TcpListener(IPAddress.Loopback, 0)).ToList();
        try
        {
            foreach (var listener in listeners) listener.Start();
            // Node 0 gets the lowest port: it is the seed and, with keep-majority, the oldest side.
            return [.. listeners.Select(l => ((IPEndPoint)l.LocalEndpoint).Port).Order()];
        }
        finally
        {
            foreach (var listener in listeners) listener.Stop();
        }
    }
}
