using Mlops.Stream.Kafka.Topics;

namespace Mlops.Stream.Actors.Drift;

/// <summary>
/// The topics of one model's drift job: the served events and the feedback labels it reads, the
/// drift topic it writes its windows to, and its consumer group, which is its own so the job never
/// takes partitions (or commits offsets) from serving.
/// </summary>
public sealed record DriftTopics(string Served, string Drift, string Feedback)
{
    public static DriftTopics For(TopicCatalog catalog, string model) => new(
        catalog[TopicFamilies.Served].TopicFor(model),
        catalog[TopicFamilies.Drift].TopicFor(model),
        catalog[TopicFamilies.Feedback].TopicFor(model));

    /// <summary><c>mlops-drift.&lt;model&gt;</c>: never the serving group <c>mlops-serve.&lt;model&gt;</c>.</summary>
    public static string ConsumerGroup(string model) => $"mlops-drift.{model}";
}
