using Confluent.Kafka;
using Mlops.Stream.Actors.Drift;
using Mlops.Stream.Drift.Windows;
using Mlops.Stream.Kafka;
using Mlops.Stream.Kafka.Embedded;
using Mlops.Stream.Kafka.Topics;

namespace Mlops.Stream.Actors.Tests.Drift;

/// <summary>The Kafka side of the drift job tests: topics of a fresh model, served events in, window records and committed offsets out.</summary>
internal sealed class DriftKafka(string bootstrapServers, string model, int servedPartitions = 3)
{
    public string Model => model;

    public DriftTopics Topics { get; } = DriftTopics.For(TopicCatalog.Default, model);

    public KafkaHealthMonitor Health { get; } = new();

    /// <summary>
    /// Consumer settings as a node's: a short fetch wait (the embedded broker answers a fetch only
    /// when it runs out) and a 6 s session (the embedded broker gives a restarted job its partitions
    /// only once the old member's session has timed out).
    /// </summary>
    public DriftKafkaSettings Settings => new(bootstrapServers, Health,
        new Dictionary<string, string> { ["fetch.wait.max.ms"] = "5", ["session.timeout.ms"] = "6000", ["heartbeat.interval.ms"] = "2000" },
        new Dictionary<string, string>());

    public DriftKafka CreateTopics(EmbeddedKafka broker)
    {
        broker.CreateTopic(Topics.Served, servedPartitions);
        broker.CreateTopic(Topics.Drift, 1);
        broker.CreateTopic(Topics.Feedback, 1);
        return this;
    }

    /// <summary>Writes <paramref name="values"/> to the feedback topic (one partition, so in this order).</summary>
    public async Task ProduceFeedbackAsync(IEnumerable<byte[]?> values)
    {
        using var producer = new ProducerBuilder<string, byte[]?>(new ProducerConfig { BootstrapServers = bootstrapServers, LingerMs = 5 }).Build();
        foreach (var value in values) await producer.ProduceAsync(Topics.Feedback, new Message<string, byte[]?> { Key = "label", Value = value });
    }

    /// <summary>The drift group's committed offset on the feedback topic (0 when none).</summary>
    public long CommittedFeedback()
    {
        using var consumer = new ConsumerBuilder<Ignore, Ignore>(new ConsumerConfig { BootstrapServers = bootstrapServers, GroupId = DriftTopics.ConsumerGroup(model) }).Build();
        var committed = consumer.Committed([new TopicPartition(Topics.Feedback, 0)], TimeSpan.FromSeconds(10)).Single().Offset.Value;
        return Math.Max(committed, 0);
    }

    /// <summary>Writes <paramref name="values"/> to the served topic, keys spread over its partitions.</summary>
    public async Task ProduceServedAsync(IEnumerable<byte[]?> values)
    {
        using var producer = new ProducerBuilder<string, byte[]?>(new ProducerConfig { BootstrapServers = bootstrapServers, LingerMs = 5 }).Build();
        var sends = values.Select((value, i) => producer.ProduceAsync(Topics.Served, new Message<string, byte[]?> { Key = $"k{Guid.NewGuid():N}{i}", Value = value })).ToList();
        await Task.WhenAll(sends);
    }

    /// <summary>Every window record on the drift topic now, in order.</summary>
    public List<DriftWindowReport> Windows()
    {
        using var consumer = new ConsumerBuilder<byte[]?, byte[]?>(new ConsumerConfig { BootstrapServers = bootstrapServers, GroupId = $"read-{Guid.NewGuid():N}" }).Build();
        var tp = new TopicPartition(Topics.Drift, 0);
        var end = consumer.QueryWatermarkOffsets(tp, TimeSpan.FromSeconds(10)).High.Value;
        consumer.Assign(new TopicPartitionOffset(tp, Offset.Beginning));
        var windows = new List<DriftWindowReport>();
        while (windows.Count < end)
        {
            var record = consumer.Consume(TimeSpan.FromSeconds(10)) ?? throw new TimeoutException($"could not read {Topics.Drift} up to {end}");
            windows.Add(DriftWindowJson.Deserialize(record.Message.Value));
        }

        return windows;
    }

    /// <summary>The drift group's committed offsets on the served topic, by partition (absent when none).</summary>
    public Dictionary<int, long> Committed()
    {
        using var consumer = new ConsumerBuilder<Ignore, Ignore>(new ConsumerConfig { BootstrapServers = bootstrapServers, GroupId = DriftTopics.ConsumerGroup(model) }).Build();
        return consumer.Committed(Enumerable.Range(0, servedPartitions).Select(p => new TopicPartition(Topics.Served, p)), TimeSpan.FromSeconds(10))
            .Where(c => c.Offset.Value >= 0)
            .ToDictionary(c => c.Partition.Value, c => c.Offset.Value);
    }
}
