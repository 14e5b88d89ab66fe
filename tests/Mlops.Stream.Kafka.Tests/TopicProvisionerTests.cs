using Microsoft.Extensions.Logging.Abstractions;
using Mlops.Stream.Kafka.Embedded;
using Mlops.Stream.Kafka.Tests.Infrastructure;
using Mlops.Stream.Kafka.Topics;

namespace Mlops.Stream.Kafka.Tests;

/// <summary>Provisioning against a fresh embedded cluster per test, so no test sees another's topics.</summary>
public sealed class TopicProvisionerTests : IDisposable
{
    private readonly EmbeddedKafka _kafka = EmbeddedKafka.Start();

    public void Dispose() => _kafka.Dispose();

    private TopicProvisioner Provisioner() =>
        new(_kafka.BootstrapServers, new EmbeddedTopicCreator(_kafka), NullLogger.Instance);

    [Fact]
    public async Task Missing_topics_are_created_with_their_declared_partitions()
    {
        var topics = TopicCatalog.Default.DeclareForModel("iris").Concat(TopicCatalog.Default.DeclareShared()).ToList();

        var report = await Provisioner().EnsureAsync(topics);

        Assert.Equal(topics.Select(t => t.Name), report.Created);
        Assert.Empty(report.Existing);
        Assert.True(report.AllSatisfied);
        Assert.All(topics, t => Assert.Equal(t.Partitions, KafkaTestClient.PartitionCount(_kafka.BootstrapServers, t.Name)));
    }

    [Fact]
    public async Task A_second_run_finds_every_topic_existing()
    {
        var topics = TopicCatalog.Default.DeclareForModel("iris");
        await Provisioner().EnsureAsync(topics);

        var report = await Provisioner().EnsureAsync(topics);

        Assert.Empty(report.Created);
        Assert.Equal(topics.Select(t => t.Name), report.Existing);
        Assert.Empty(report.Mismatched);
    }

    [Fact]
    public async Task A_topic_with_fewer_partitions_than_declared_is_reported_and_one_with_more_is_accepted()
    {
        _kafka.CreateTopic("fewer", 2);
        _kafka.CreateTopic("more", 12);

        var report = await Provisioner().EnsureAsync(
        [
            TopicDeclaration.WithPartitions("fewer", 8),
            TopicDeclaration.WithPartitions("more", 8),
        ]);

        Assert.Equal([new PartitionMismatch("fewer", 8, 2)], report.Mismatched);
        Assert.Equal(["more"], report.Existing);
        Assert.Empty(report.Created);
        Assert.False(report.AllSatisfied);
        Assert.Equal(2, KafkaTestClient.PartitionCount(_kafka.BootstrapServers, "fewer"));
    }

    [Fact]
    public async Task A_topic_declared_twice_with_different_settings_is_refused()
    {
        await Assert.ThrowsAsync<ArgumentException>(() => Provisioner().EnsureAsync(
        [
            TopicDeclaration.WithPartitions("twice", 1),
            TopicDeclaration.WithPartitions("twice", 2),
        ]));
    }

    [Fact]
    public async Task The_admin_creator_fails_clearly_where_create_topics_is_not_served_as_on_the_mock_cluster()
    {
        var creator = new AdminClientTopicCreator(_kafka.BootstrapServers, timeout: TimeSpan.FromSeconds(1));

        var error = await Assert.ThrowsAsync<InvalidOperationException>(
            () => creator.CreateAsync([TopicDeclaration.WithPartitions("via-admin", 2)]).WaitAsync(TimeSpan.FromSeconds(30)));
        Assert.Contains("via-admin", error.Message);
        Assert.Null(KafkaTestClient.PartitionCount(_kafka.BootstrapServers, "via-admin"));
    }

    [Fact]
    public async Task An_unreachable_cluster_fails_with_its_address_in_the_message()
    {
        var address = _kafka.BootstrapServers;
        _kafka.Dispose();
        var provisioner = new TopicProvisioner(address, new AdminClientTopicCreator(address), metadataTimeout: TimeSpan.FromSeconds(1));

        var error = await Assert.ThrowsAsync<InvalidOperationException>(
            () => provisioner.EnsureAsync([TopicDeclaration.WithPartitions("any", 1)]));
        Assert.Contains(address, error.Message);
    }

    [Fact]
    public async Task The_clusters_client_properties_reach_the_admin_clients_that_read_metadata_and_create_topics()
    {
        // An invalid security setting can only fail if it was passed through to librdkafka.
        var properties = new Dictionary<string, string> { ["security.protocol"] = "not-a-protocol" };
        var endpoint = Mlops.Stream.Kafka.Connection.KafkaEndpoint.External(_kafka.BootstrapServers, properties);

        var error = await Assert.ThrowsAnyAsync<Exception>(() =>
            endpoint.CreateProvisioner().EnsureAsync([TopicDeclaration.WithPartitions($"secured-{Guid.NewGuid():N}", 1)]));

        Assert.Contains("security.protocol", error.ToString());
    }
}
