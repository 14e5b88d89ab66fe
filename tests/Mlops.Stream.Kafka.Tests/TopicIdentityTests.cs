using Mlops.Stream.Kafka.Topics;

namespace Mlops.Stream.Kafka.Tests;

/// <summary>The catalog tells which family and model a broker topic belongs to, so operators see topics by model.</summary>
public sealed class TopicIdentityTests
{
    [Theory]
    [InlineData("mlops.requests.fraud-demo.v1", TopicFamilies.Requests, "fraud-demo")]
    [InlineData("mlops.predictions.fraud-demo.v1", TopicFamilies.Predictions, "fraud-demo")]
    [InlineData("mlops.served.iris_2.v1", TopicFamilies.Served, "iris_2")]
    [InlineData("mlops.requests.fraud-demo.dlq.v1", TopicFamilies.DeadLetters, "fraud-demo")]
    [InlineData("mlops.drift.fraud-demo.v1", TopicFamilies.Drift, "fraud-demo")]
    [InlineData("mlops.requests.a.b.v1", TopicFamilies.Requests, "a.b")]
    [InlineData("mlops.audit.v1", TopicFamilies.Audit, null)]
    public void A_topic_of_a_family_is_identified_with_its_model(string topic, string family, string? model)
    {
        var identity = TopicCatalog.Default.Identify(topic);

        Assert.NotNull(identity);
        Assert.Equal(family, identity.Family.Name);
        Assert.Equal(model, identity.Model);
    }

    [Theory]
    [InlineData("orders")]
    [InlineData("mlops.requests..v1")]
    [InlineData("mlops.requests.v1")]
    [InlineData("mlops.audit.v2")]
    [InlineData("__consumer_offsets")]
    public void A_topic_of_no_family_is_not_identified(string topic)
    {
        Assert.Null(TopicCatalog.Default.Identify(topic));
    }

    [Fact]
    public void Every_topic_a_model_is_declared_with_is_identified_as_that_models()
    {
        foreach (var declaration in TopicCatalog.Default.DeclareForModel("m-1"))
            Assert.Equal("m-1", TopicCatalog.Default.Identify(declaration.Name)?.Model);
    }
}
