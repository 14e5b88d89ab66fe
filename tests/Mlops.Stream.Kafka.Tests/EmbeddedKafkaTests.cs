using System.Net.Sockets;
using Confluent.Kafka;
using Mlops.Stream.Kafka.Embedded;
using Mlops.Stream.Kafka.Tests.Infrastructure;

namespace Mlops.Stream.Kafka.Tests;

public sealed class EmbeddedKafkaTests
{
    [Fact]
    public async Task A_created_topic_has_its_partitions_and_round_trips_records_through_plain_clients()
    {
        using var kafka = EmbeddedKafka.Start();
        const string topic = "embedded-roundtrip";
        kafka.CreateTopic(topic, partitions: 3);

        Assert.Equal(3, KafkaTestClient.PartitionCount(kafka.BootstrapServers, topic));

        var delivered = await KafkaTestClient.ProduceAsync(kafka.BootstrapServers, topic, 30);
        Assert.All(delivered, d => Assert.Equal(PersistenceStatus.Persisted, d.Status));
        Assert.Equal(3, delivered.Select(d => d.Partition.Value).Distinct().Count());

        var read = KafkaTestClient.ReadTopic(kafka.BootstrapServers, topic, expected: 30);
        Assert.Equal(
            Enumerable.Range(0, 30).Select(i => $"value-{i}").Order(),
            read.Select(r => r.Message.Value).Order());
    }

    [Fact]
    public async Task A_record_is_not_acknowledged_while_its_broker_is_down_and_is_once_it_is_back()
    {
        using var kafka = EmbeddedKafka.Start();
        const string topic = "embedded-broker-down";
        kafka.CreateTopic(topic, partitions: 1);
        using var producer = new ProducerBuilder<string, string>(KafkaTestClient.ProducerConfig(kafka.BootstrapServers)).Build();
        // Connected and acknowledged first, so the later silence is the outage and nothing else.
        await producer.ProduceAsync(topic, new Message<string, string> { Key = "k", Value = "before" })
            .WaitAsync(KafkaTestClient.DefaultTimeout);

        kafka.SetBrokerDown(1);
        var during = producer.ProduceAsync(topic, new Message<string, string> { Key = "k", Value = "during" });
        var first = await Task.WhenAny(during, Task.Delay(TimeSpan.FromSeconds(1.5)));
        Assert.NotSame(during, first);

        kafka.SetBrokerUp(1);
        var result = await during.WaitAsync(KafkaTestClient.DefaultTimeout);
        Assert.Equal(PersistenceStatus.Persisted, result.Status);
        Assert.Equal(1, result.Offset.Value);
    }

    [Fact]
    public async Task A_round_trip_time_holds_answers_back_so_a_client_that_cannot_wait_that_long_times_out()
    {
        using var kafka = EmbeddedKafka.Start();
        const string topic = "embedded-rtt";
        kafka.CreateTopic(topic, partitions: 1);
        using var producer = new ProducerBuilder<string, string>(KafkaTestClient.ProducerConfig(kafka.BootstrapServers)).Build();
        await producer.ProduceAsync(topic, new Message<string, string> { Key = "k", Value = "before" }).WaitAsync(KafkaTestClient.DefaultTimeout);

        // The broker holds every answer back 10 s; a producer that gives a record 1 s fails it. No
        // machine is fast enough to get the answer sooner, so the outcome does not depend on its speed.
        kafka.SetBrokerRtt(TimeSpan.FromSeconds(10));
        var impatientConfig = KafkaTestClient.ProducerConfig(kafka.BootstrapServers);
        impatientConfig.MessageTimeoutMs = 1_000;
        impatientConfig.MessageSendMaxRetries = 0;
        using (var impatient = new ProducerBuilder<string, string>(impatientConfig).Build())
        {
            var refused = await Assert.ThrowsAsync<ProduceException<string, string>>(() =>
                impatient.ProduceAsync(topic, new Message<string, string> { Key = "k", Value = "slowed" }).WaitAsync(KafkaTestClient.DefaultTimeout));
            Assert.Equal(ErrorCode.Local_MsgTimedOut, refused.Error.Code);
        }

        // Cleared: answers come back at once again.
        kafka.SetBrokerRtt(TimeSpan.Zero);
        var result = await producer.ProduceAsync(topic, new Message<string, string> { Key = "k", Value = "after" }).WaitAsync(KafkaTestClient.DefaultTimeout);
        Assert.Equal(PersistenceStatus.Persisted, result.Status);
        Assert.Throws<ArgumentOutOfRangeException>(() => kafka.SetBrokerRtt(TimeSpan.FromMilliseconds(-1)));
        Assert.Throws<ArgumentOutOfRangeException>(() => kafka.SetBrokerRtt(TimeSpan.Zero, brokerId: 2));
    }

    [Fact]
    public async Task Pushed_errors_fail_requests_until_they_are_cleared()
    {
        using var kafka = EmbeddedKafka.Start();
        const string topic = "embedded-pushed-errors";
        kafka.CreateTopic(topic, partitions: 1);
        // No retries: a pushed error reaches the caller instead of being retried away.
        var config = KafkaTestClient.ProducerConfig(kafka.BootstrapServers);
        config.MessageSendMaxRetries = 0;
        using var producer = new ProducerBuilder<string, string>(config).Build();
        await producer.ProduceAsync(topic, new Message<string, string> { Key = "k", Value = "connect" }).WaitAsync(KafkaTestClient.DefaultTimeout);

        kafka.PushRequestErrors(KafkaApi.Produce, ErrorCode.NotEnoughReplicas, ErrorCode.NotEnoughReplicas);
        var refused = await Assert.ThrowsAsync<ProduceException<string, string>>(() =>
            producer.ProduceAsync(topic, new Message<string, string> { Key = "k", Value = "refused" }).WaitAsync(KafkaTestClient.DefaultTimeout));
        Assert.Equal(ErrorCode.NotEnoughReplicas, refused.Error.Code);

        // One pushed error is left; cleared, the next request is answered normally.
        kafka.ClearRequestErrors(KafkaApi.Produce);
        var result = await producer.ProduceAsync(topic, new Message<string, string> { Key = "k", Value = "after" }).WaitAsync(KafkaTestClient.DefaultTimeout);
        Assert.Equal(PersistenceStatus.Persisted, result.Status);
    }

    [Fact]
    public async Task A_moved_partition_leader_shows_in_metadata_and_producers_follow_it()
    {
        using var kafka = EmbeddedKafka.Start(brokerCount: 2);
        const string topic = "embedded-leader-move";
        kafka.CreateTopic(topic, partitions: 1);
        using var producer = new ProducerBuilder<string, string>(KafkaTestClient.ProducerConfig(kafka.BootstrapServers)).Build();
        await producer.ProduceAsync(topic, new Message<string, string> { Key = "k", Value = "before" }).WaitAsync(KafkaTestClient.DefaultTimeout);
        var before = Leader(kafka.BootstrapServers, topic);
        var other = before == 1 ? 2 : 1;

        kafka.SetPartitionLeader(topic, 0, other);

        Assert.Equal(other, Leader(kafka.BootstrapServers, topic));
        var result = await producer.ProduceAsync(topic, new Message<string, string> { Key = "k", Value = "after" }).WaitAsync(KafkaTestClient.DefaultTimeout);
        Assert.Equal(PersistenceStatus.Persisted, result.Status);
        Assert.Equal(1, result.Offset.Value);
        Assert.Throws<ArgumentOutOfRangeException>(() => kafka.SetPartitionLeader(topic, 0, 3));
    }

    [Fact]
    public void Creating_an_existing_topic_fails_with_a_message_naming_it()
    {
        using var kafka = EmbeddedKafka.Start();
        kafka.CreateTopic("embedded-twice", 2);

        var error = Assert.Throws<InvalidOperationException>(() => kafka.CreateTopic("embedded-twice", 2));
        Assert.Contains("embedded-twice", error.Message);
    }

    [Fact]
    public void Broker_ids_outside_the_cluster_are_rejected()
    {
        using var kafka = EmbeddedKafka.Start(brokerCount: 2);

        Assert.Equal(2, kafka.BrokerCount);
        Assert.Equal(2, kafka.BootstrapServers.Split(',').Length);
        Assert.Throws<ArgumentOutOfRangeException>(() => kafka.SetBrokerDown(0));
        Assert.Throws<ArgumentOutOfRangeException>(() => kafka.SetBrokerUp(3));
    }

    [Fact]
    public void Dispose_is_idempotent_and_closes_the_listeners()
    {
        var kafka = EmbeddedKafka.Start();
        var (host, port) = FirstBroker(kafka.BootstrapServers);
        using (var probe = new TcpClient())
        {
            probe.Connect(host, port);
        }

        kafka.Dispose();
        kafka.Dispose();

        Assert.Throws<ObjectDisposedException>(() => kafka.CreateTopic("after-dispose", 1));
        Assert.ThrowsAny<SocketException>(() =>
        {
            using var probe = new TcpClient();
            probe.Connect(host, port);
        });
    }

    [Fact]
    public void The_mock_cluster_runs_in_the_same_native_librdkafka_as_confluent_kafka()
    {
        // Two copies would mean two sets of librdkafka globals in one process; /proc shows loaded files.
        if (!OperatingSystem.IsLinux()) return;
        using var kafka = EmbeddedKafka.Start();
        using var producer = new ProducerBuilder<Null, string>(new ProducerConfig { BootstrapServers = kafka.BootstrapServers }).Build();

        var loaded = File.ReadAllLines("/proc/self/maps")
            .Select(line => line.Split(' ', StringSplitOptions.RemoveEmptyEntries).LastOrDefault() ?? string.Empty)
            .Where(path => Path.GetFileName(path).Contains("librdkafka", StringComparison.Ordinal))
            .Distinct()
            .ToList();

        Assert.Single(loaded);
    }

    private static int Leader(string bootstrapServers, string topic)
    {
        using var admin = new AdminClientBuilder(new AdminClientConfig { BootstrapServers = bootstrapServers }).Build();
        return admin.GetMetadata(topic, KafkaTestClient.DefaultTimeout).Topics.Single().Partitions.Single().Leader;
    }

    private static (string Host, int Port) FirstBroker(string bootstrapServers)
    {
        var first = bootstrapServers.Split(',')[0];
        var colon = first.LastIndexOf(':');
        return (first[..colon], int.Parse(first[(colon + 1)..]));
    }
}
