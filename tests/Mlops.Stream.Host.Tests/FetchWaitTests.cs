using Mlops.Stream.Host.Kafka;
using Mlops.Stream.Host.Options;
using Mlops.Stream.Kafka.Connection;

namespace Mlops.Stream.Host.Tests;

/// <summary>
/// Issue 10: the consumers' fetch wait is a setting with a default per broker kind, so a node pointed
/// at an embedded (mock) broker of another node can ask with a short wait instead of adding ~500 ms
/// to every record.
/// </summary>
public sealed class FetchWaitTests
{
    private static readonly KafkaEndpoint External = KafkaEndpoint.External("broker:9092");

    [Fact]
    public void Auto_leaves_librdkafkas_default_on_an_external_cluster()
    {
        Assert.False(KafkaClientConfigs.ConsumerProperties(External, new KafkaOptions()).ContainsKey("fetch.wait.max.ms"));
    }

    [Fact]
    public void A_set_wait_is_used_on_an_external_cluster()
    {
        var properties = KafkaClientConfigs.ConsumerProperties(External, new KafkaOptions { FetchWait = "00:00:00.005" });

        Assert.Equal("5", properties["fetch.wait.max.ms"]);
    }

    [Fact]
    public void A_fetch_wait_in_the_consumer_properties_wins()
    {
        var options = new KafkaOptions { FetchWait = "00:00:00.005", ConsumerProperties = { ["fetch.wait.max.ms"] = "50" } };

        Assert.Equal("50", KafkaClientConfigs.ConsumerProperties(External, options)["fetch.wait.max.ms"]);
    }

    [Theory]
    [InlineData("auto", true)]
    [InlineData("AUTO", true)]
    [InlineData("00:00:00.005", true)]
    [InlineData("00:00:11", false)]
    [InlineData("-00:00:01", false)]
    [InlineData("soon", false)]
    public void The_setting_is_auto_or_a_time_up_to_ten_seconds(string value, bool valid)
    {
        var result = new KafkaOptionsValidator().Validate(null, new KafkaOptions { FetchWait = value });

        Assert.Equal(valid, result.Succeeded);
        if (!valid) Assert.Contains("Kafka:FetchWait", result.FailureMessage);
    }
}
