using System.Net.Sockets;
using System.Text;
using Mlops.Stream.Kafka.Tests.Infrastructure;

namespace Mlops.Stream.Kafka.Tests;

[Collection(KafkaCollection.Name)]
public sealed class KafkaFixtureTests(KafkaFixture kafka)
{
    [Fact]
    public void The_cluster_kind_follows_the_environment()
    {
        if (!string.IsNullOrWhiteSpace(Environment.GetEnvironmentVariable(KafkaFixture.BootstrapServersVariable)))
        {
            Assert.Equal(KafkaKind.External, kafka.Kind);
        }
        else
        {
            Assert.NotEqual(KafkaKind.External, kafka.Kind);
        }
        Assert.False(string.IsNullOrWhiteSpace(kafka.BootstrapServers));
    }

    [Fact]
    public async Task Each_created_topic_is_new_has_its_partitions_and_carries_records()
    {
        var first = await kafka.CreateTopicAsync("fixture", partitions: 3);
        var second = await kafka.CreateTopicAsync("fixture", partitions: 1);

        Assert.NotEqual(first, second);
        Assert.StartsWith("fixture-", first);
        Assert.Equal(3, KafkaTestClient.PartitionCount(kafka.BootstrapServers, first));
        Assert.Equal(1, KafkaTestClient.PartitionCount(kafka.BootstrapServers, second));

        await KafkaTestClient.ProduceAsync(kafka.BootstrapServers, first, 12);
        Assert.Equal(12, KafkaTestClient.ReadTopic(kafka.BootstrapServers, first, expected: 12).Count);
        Assert.Empty(KafkaTestClient.ReadTopic(kafka.BootstrapServers, second, expected: 1, timeout: TimeSpan.FromMilliseconds(500)));
    }

    [Fact]
    public void Group_ids_are_unique_and_keep_their_prefix()
    {
        var a = kafka.NewGroupId("grp");
        var b = kafka.NewGroupId("grp");

        Assert.NotEqual(a, b);
        Assert.StartsWith("grp-", a);
    }
}

public sealed class DockerEngineProbeTests : IDisposable
{
    private readonly string _socketPath = Path.Combine(Path.GetTempPath(), $"docker-{Guid.NewGuid():N}.sock");

    public void Dispose() => File.Delete(_socketPath);

    [Fact]
    public async Task A_missing_socket_means_no_engine_at_once()
    {
        var started = DateTime.UtcNow;

        Assert.False(await DockerEngineProbe.AnswersAsync($"unix://{_socketPath}", TimeSpan.FromSeconds(2)));
        Assert.True(DateTime.UtcNow - started < TimeSpan.FromSeconds(1));
    }

    [Fact]
    public async Task An_engine_answering_the_ping_is_found()
    {
        using var listener = Listen();
        var server = Task.Run(async () =>
        {
            using var connection = await listener.AcceptAsync();
            var buffer = new byte[1024];
            await connection.ReceiveAsync(buffer);
            await connection.SendAsync(Encoding.ASCII.GetBytes("HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nOK"));
        });

        Assert.True(await DockerEngineProbe.AnswersAsync($"unix://{_socketPath}", TimeSpan.FromSeconds(5)));
        await server.WaitAsync(TimeSpan.FromSeconds(5));
    }

    [Fact]
    public async Task A_socket_that_never_answers_is_given_up_on_after_the_timeout()
    {
        using var listener = Listen();
        var started = DateTime.UtcNow;

        Assert.False(await DockerEngineProbe.AnswersAsync($"unix://{_socketPath}", TimeSpan.FromMilliseconds(500)));
        Assert.True(DateTime.UtcNow - started < TimeSpan.FromSeconds(5));
    }

    private Socket Listen()
    {
        var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        socket.Bind(new UnixDomainSocketEndPoint(_socketPath));
        socket.Listen(1);
        return socket;
    }
}
