namespace Mlops.Stream.Kafka.Settings;

/// <summary>What a consumer source reads: topics subscribed through the consumer group.</summary>
public sealed record Subscription(IReadOnlyList<string> Topics);

public static class Subscriptions
{
    public static Subscription Topics(params string[] topics)
    {
        if (topics.Length == 0) throw new ArgumentException("Subscribe to at least one topic.", nameof(topics));
        return new Subscription(topics);
    }
}
