using Mlops.Stream.Actors.Serving;
using Mlops.Stream.Http;
using Mlops.Stream.Kafka.Topics;

namespace Mlops.Stream.Host.Kafka;

/// <summary>
/// A model's request backlog for its replicas while the model is not loaded: the serving group's
/// committed offsets and lag as <c>GET /api/v1/topics/{name}</c> reads them (through the node's one
/// admin client), partition by partition.
/// </summary>
public sealed class KafkaRequestBacklog(ITopicInspector topics, TopicCatalog catalog) : IRequestBacklog
{
    public async Task<IReadOnlyList<PartitionBacklog>> ReadAsync(string model, CancellationToken cancellationToken)
    {
        var detail = await topics.DescribeAsync(ModelTopics.For(catalog, model).Requests, cancellationToken);
        var group = detail?.Groups.FirstOrDefault(g => g.Group == ModelTopics.ConsumerGroup(model));
        return group is null ? [] : [.. group.Partitions.Select(p => new PartitionBacklog(p.Partition, p.Committed, p.Lag))];
    }
}
