using Mlops.Stream.Host.Options;

namespace Mlops.Stream.Host.Tests;

/// <summary><c>Kafka:Delivery</c>: at-least-once by default; exactly-once only on a real cluster, because the embedded broker cannot give it.</summary>
public sealed class KafkaDeliveryOptionsTests
{
    [Theory]
    [InlineData("", "at-least-once", true)]
    [InlineData("", "exactly-once", false)]
    [InlineData("kafka-1:9092,kafka-2:9092", "exactly-once", true)]
    [InlineData("kafka-1:9092", "EXACTLY-ONCE", true)]
    [InlineData("kafka-1:9092", "at-most-once", false)]
    public void Exactly_once_needs_an_external_cluster(string bootstrapServers, string delivery, bool valid)
    {
        var options = new KafkaOptions { BootstrapServers = bootstrapServers, Delivery = delivery };

        var result = new KafkaOptionsValidator().Validate(null, options);

        Assert.Equal(valid, result.Succeeded);
        if (!valid) Assert.Contains("Kafka:Delivery", result.FailureMessage);
        if (valid) Assert.Equal(delivery.Equals("exactly-once", StringComparison.OrdinalIgnoreCase), options.IsExactlyOnce);
    }

    [Fact]
    public void At_least_once_is_the_default() => Assert.False(new KafkaOptions().IsExactlyOnce);
}
