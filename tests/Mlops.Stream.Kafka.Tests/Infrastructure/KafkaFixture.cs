// Shared by every Kafka test. This file depends only on Mlops.Stream.Kafka, Confluent.Kafka,
// Testcontainers.Kafka and xunit, so other test projects can link it:
//   <Compile Include="..\Mlops.Stream.Kafka.Tests\Infrastructure\KafkaFixture.cs" Link="Infrastructure\KafkaFixture.cs" />
using System.Net.Http;
using System.Net.Sockets;
using Confluent.Kafka;
using Mlops.Stream.Kafka.Embedded;
using Mlops.Stream.Kafka.Topics;
using Testcontainers.Kafka;
using Xunit;
using Xunit.Abstractions;
using Xunit.Sdk;

namespace Mlops.Stream.Kafka.Tests.Infrastructure;

/// <summary>Where the cluster a <see cref="KafkaFixture"/> uses comes from.</summary>
public enum KafkaKind
{
    /// <summary>A broker named by <c>KAFKA_BOOTSTRAP_SERVERS</c>.</summary>
    External,

    /// <summary>Apache Kafka in a container started through Testcontainers.</summary>
    Container,

    /// <summary>librdkafka's in-process mock cluster.</summary>
    Embedded,
}

/// <summary>
/// One Kafka cluster for a test collection, chosen in this order: the broker in
/// <c>KAFKA_BOOTSTRAP_SERVERS</c>; a Testcontainers Apache Kafka when a Docker engine answers a ping
/// within two seconds; otherwise <see cref="EmbeddedKafka"/>. Tests share the cluster, never its
/// state: each takes a fresh topic from <see cref="CreateTopicAsync"/> and a fresh group from
/// <see cref="NewGroupId"/>.
/// </summary>
public sealed class KafkaFixture : IAsyncLifetime
{
    public const string BootstrapServersVariable = "KAFKA_BOOTSTRAP_SERVERS";

    /// <summary>The image docker-compose.kafka.yml runs too, so container tests match what users run.</summary>
    public const string KafkaImage = "apache/kafka:4.1.0";

    private static readonly TimeSpan TopicVisibleTimeout = TimeSpan.FromSeconds(30);

    private readonly IMessageSink _diagnostics;
    private EmbeddedKafka? _embedded;
    private KafkaContainer? _container;
    private ITopicCreator? _creator;

    public KafkaFixture(IMessageSink diagnostics) => _diagnostics = diagnostics;

    /// <summary>Where clients connect; set once <see cref="InitializeAsync"/> has run.</summary>
    public string BootstrapServers { get; private set; } = string.Empty;

    public KafkaKind Kind { get; private set; }

    /// <summary>Creates topics on this cluster the way the service does for its kind.</summary>
    public ITopicCreator TopicCreator => _creator ?? throw new InvalidOperationException("The Kafka fixture is not initialized.");

    public async Task InitializeAsync()
    {
        var external = Environment.GetEnvironmentVariable(BootstrapServersVariable);
        if (!string.IsNullOrWhiteSpace(external))
        {
            Use(KafkaKind.External, external, new AdminClientTopicCreator(external));
            return;
        }

        if (await DockerEngineProbe.AnswersAsync(TimeSpan.FromSeconds(2)).ConfigureAwait(false))
        {
            try
            {
                _container = new KafkaBuilder(KafkaImage).Build();
                await _container.StartAsync().ConfigureAwait(false);
                var address = _container.GetBootstrapAddress();
                Use(KafkaKind.Container, address, new AdminClientTopicCreator(address));
                return;
            }
            catch (Exception e)
            {
                // A Docker engine that cannot pull or start the image (offline, out of disk) should not
                // fail every Kafka test when the embedded cluster can serve them.
                Report($"Docker answered but the Kafka container did not start ({e.GetType().Name}: {e.Message}); using the embedded cluster.");
                if (_container is not null) await _container.DisposeAsync().ConfigureAwait(false);
                _container = null;
            }
        }

        _embedded = EmbeddedKafka.Start();
        Use(KafkaKind.Embedded, _embedded.BootstrapServers, new EmbeddedTopicCreator(_embedded));
    }

    public async Task DisposeAsync()
    {
        _embedded?.Dispose();
        if (_container is not null) await _container.DisposeAsync().ConfigureAwait(false);
    }

    /// <summary>
    /// Creates a topic no other test uses, named <c>{prefix}-{random}</c>, and waits until the
    /// cluster's metadata shows it with <paramref name="partitions"/> partitions.
    /// </summary>
    public async Task<string> CreateTopicAsync(string prefix, int partitions)
    {
        var topic = UniqueName(prefix);
        await TopicCreator.CreateAsync([TopicDeclaration.WithPartitions(topic, partitions)]).ConfigureAwait(false);
        await WaitUntilVisibleAsync(topic, partitions).ConfigureAwait(false);
        return topic;
    }

    /// <summary>A consumer group id no other test uses.</summary>
    public string NewGroupId(string prefix) => UniqueName(prefix);

    private void Use(KafkaKind kind, string bootstrapServers, ITopicCreator creator)
    {
        Kind = kind;
        BootstrapServers = bootstrapServers;
        _creator = creator;
        Report($"Kafka tests run against {kind} Kafka at {bootstrapServers}.");
    }

    private static string UniqueName(string prefix)
    {
        var safe = new string(prefix.Select(c => char.IsAsciiLetterOrDigit(c) || c is '.' or '_' or '-' ? c : '-').ToArray());
        return $"{safe}-{Guid.NewGuid():N}";
    }

    // A real broker creates topics asynchronously: clients that ask too early get UnknownTopicOrPartition.
    private async Task WaitUntilVisibleAsync(string topic, int partitions)
    {
        using var admin = new AdminClientBuilder(new AdminClientConfig { BootstrapServers = BootstrapServers }).Build();
        // All topics, not this one: naming a topic in a metadata request can auto-create it.
        await Eventually.HoldsAsync(() => admin.GetMetadata(TimeSpan.FromSeconds(5)).Topics.SingleOrDefault(t => t.Topic == topic)
                is { Error.IsError: false } entry && entry.Partitions.Count == partitions,
            $"topic {topic} appears with {partitions} partition(s) on {BootstrapServers}", TopicVisibleTimeout).ConfigureAwait(false);
    }

    private void Report(string message) => _diagnostics.OnMessage(new DiagnosticMessage(message));
}

/// <summary>The xunit collection that shares one <see cref="KafkaFixture"/>: mark Kafka test classes with <c>[Collection(KafkaCollection.Name)]</c>.</summary>
[CollectionDefinition(Name)]
public sealed class KafkaCollection : ICollectionFixture<KafkaFixture>
{
    public const string Name = "Kafka";
}

/// <summary>
/// Asks a Docker engine for <c>GET /_ping</c> without ever hanging: machines without Docker must
/// fall back to the embedded cluster at once.
/// </summary>
public static class DockerEngineProbe
{
    private const string DefaultSocket = "/var/run/docker.sock";

    /// <summary>True when the engine at <c>DOCKER_HOST</c> (or the default socket) answers 200 within <paramref name="timeout"/>.</summary>
    public static Task<bool> AnswersAsync(TimeSpan timeout) =>
        AnswersAsync(Environment.GetEnvironmentVariable("DOCKER_HOST"), timeout);

    /// <summary>
    /// True when the engine at <paramref name="dockerHost"/> (<c>unix://path</c> or <c>tcp://host:port</c>;
    /// null means the default socket) answers <c>GET /_ping</c> with 200 within <paramref name="timeout"/>.
    /// </summary>
    public static async Task<bool> AnswersAsync(string? dockerHost, TimeSpan timeout)
    {
        Uri endpoint;
        string? socketPath = null;
        if (string.IsNullOrWhiteSpace(dockerHost) || dockerHost.StartsWith("unix://", StringComparison.Ordinal))
        {
            socketPath = string.IsNullOrWhiteSpace(dockerHost) ? DefaultSocket : dockerHost["unix://".Length..];
            if (!File.Exists(socketPath)) return false;
            endpoint = new Uri("http://docker/_ping");
        }
        else if (dockerHost.StartsWith("tcp://", StringComparison.Ordinal))
        {
            endpoint = new Uri("http://" + dockerHost["tcp://".Length..].TrimEnd('/') + "/_ping");
        }
        else
        {
            return false;
        }

        var handler = new SocketsHttpHandler { ConnectTimeout = timeout };
        if (socketPath is not null)
        {
            handler.ConnectCallback = async (_, cancellationToken) =>
            {
                var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
                try
                {
                    await socket.ConnectAsync(new UnixDomainSocketEndPoint(socketPath), cancellationToken).ConfigureAwait(false);
                    return new NetworkStream(socket, ownsSocket: true);
                }
                catch
                {
                    socket.Dispose();
                    throw;
                }
            };
        }

        using var client = new HttpClient(handler) { Timeout = timeout };
        try
        {
            using var response = await client.GetAsync(endpoint).ConfigureAwait(false);
            return response.IsSuccessStatusCode;
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException or SocketException or IOException)
        {
            return false;
        }
    }
}
