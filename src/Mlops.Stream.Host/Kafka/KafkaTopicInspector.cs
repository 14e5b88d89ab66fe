using Confluent.Kafka;
using Confluent.Kafka.Admin;
using Mlops.Stream.Actors.Drift;
using Mlops.Stream.Actors.Serving;
using Mlops.Stream.Http;
using Mlops.Stream.Inference.Gateway;
using Mlops.Stream.Kafka.Topics;

namespace Mlops.Stream.Host.Kafka;

/// <summary>
/// Answers <c>/api/v1/topics</c> from the broker: the topics that belong to a family in
/// <c>topics/*.json</c>, their watermarks, and the lag of the consumer groups this node runs (the
/// embedded broker cannot list groups, see <see cref="KafkaAdminReader"/>).
/// </summary>
public sealed class KafkaTopicInspector(KafkaAdminReader broker, TopicCatalog catalog) : ITopicInspector
{
    public async Task<IReadOnlyList<TopicSummary>> ListAsync(CancellationToken cancellationToken)
    {
        var ours = (await broker.TopicsAsync(cancellationToken))
            .Select(t => (Name: t.Key, Partitions: t.Value, Identity: catalog.Identify(t.Key)))
            .Where(t => t.Identity is not null)
            .OrderBy(t => t.Name, StringComparer.Ordinal)
            .ToList();
        var ends = await broker.OffsetsAsync([.. ours.SelectMany(t => PartitionsOf(t.Name, t.Partitions))], OffsetSpec.Latest());
        return
        [
            .. ours.Select(t => new TopicSummary(t.Name, t.Identity!.Family.Name, t.Identity.Model, t.Partitions.Count,
                PartitionsOf(t.Name, t.Partitions).Sum(p => ends.GetValueOrDefault(p)))),
        ];
    }

    public async Task<TopicDetail?> DescribeAsync(string topic, CancellationToken cancellationToken)
    {
        if (!(await broker.TopicsAsync(cancellationToken)).TryGetValue(topic, out var ids)) return null;
        var partitions = PartitionsOf(topic, ids);
        var lows = await broker.OffsetsAsync(partitions, OffsetSpec.Earliest());
        var highs = await broker.OffsetsAsync(partitions, OffsetSpec.Latest());
        var watermarks = partitions.Select(p => new PartitionWatermarks(p.Partition.Value, lows.GetValueOrDefault(p), highs.GetValueOrDefault(p))).ToList();

        var identity = catalog.Identify(topic);
        var groups = new List<GroupLag>();
        foreach (var group in KnownGroups(identity))
        {
            var committed = await broker.CommittedAsync(group, partitions);
            var lags = watermarks.Select(w => Lag(w, committed.GetValueOrDefault(new TopicPartition(topic, w.Partition)))).ToList();
            groups.Add(new GroupLag(group, lags.Sum(l => l.Lag), lags));
        }
        return new TopicDetail(topic, identity?.Family.Name, identity?.Model, watermarks.Sum(w => w.High), watermarks, groups);
    }

    /// <summary>
    /// The groups the project consumes the topic with: the serving group of a model's request topic,
    /// the drift group of its served and feedback topics. Other families are read by jobs outside the project,
    /// whose groups it cannot know.
    /// </summary>
    private static IEnumerable<string> KnownGroups(TopicIdentity? identity) => identity switch
    {
        { Family.Name: TopicFamilies.Requests, Model: { } model } => [ModelTopics.ConsumerGroup(model)],
        { Family.Name: TopicFamilies.Served, Model: { } model } => [DriftTopics.ConsumerGroup(model)],
        { Family.Name: TopicFamilies.Feedback, Model: { } model } => [DriftTopics.ConsumerGroup(model)],
        _ => [],
    };

    /// <summary>Without a commit the group starts at the low watermark (the serving and drift groups read from the earliest offset).</summary>
    private static GroupPartitionLag Lag(PartitionWatermarks watermarks, long? committed) =>
        new(watermarks.Partition, committed, Math.Max(0, watermarks.High - (committed ?? watermarks.Low)));

    private static List<TopicPartition> PartitionsOf(string topic, IReadOnlyList<int> ids) =>
        [.. ids.Select(id => new TopicPartition(topic, id))];
}
