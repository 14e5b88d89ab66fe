using Mlops.Stream.Kafka.Topics;

namespace Mlops.Stream.Kafka.Tests;

public sealed class TopicCollisionsTests
{
    [Fact]
    public void A_model_whose_request_topic_is_another_models_dead_letter_topic_collides_with_it()
    {
        var collision = Assert.Single(TopicCollisions.Find(TopicCatalog.Default, ["fraud-demo", "fraud-demo.dlq"]));

        Assert.Equal(("fraud-demo", "fraud-demo.dlq"), (collision.ModelA, collision.ModelB));
        Assert.Equal("mlops.requests.fraud-demo.dlq.v1", collision.TopicB);
        Assert.Contains("model 'fraud-demo.dlq' would use topic 'mlops.requests.fraud-demo.dlq.v1', which is already a topic of model 'fraud-demo'",
            collision.ToString());
    }

    [Fact]
    public void Topics_that_differ_only_in_dot_and_underscore_collide_because_kafka_refuses_to_hold_both()
    {
        var collision = Assert.Single(TopicCollisions.Find(TopicCatalog.Default, ["fraud-demo", "fraud-demo_dlq"]));

        Assert.Equal(("mlops.requests.fraud-demo.dlq.v1", "mlops.requests.fraud-demo_dlq.v1"), (collision.TopicA, collision.TopicB));
        Assert.True(collision.Involves("fraud-demo_dlq"));
        Assert.Contains("differ only in '.' versus '_'", collision.ToString());
    }

    [Fact]
    public void Models_with_distinct_names_under_the_rule_do_not_collide()
    {
        Assert.Empty(TopicCollisions.Find(TopicCatalog.Default, ["fraud-demo", "fraud-demo-2", "churn_v2", "dlq", "v1"]));
    }
}
