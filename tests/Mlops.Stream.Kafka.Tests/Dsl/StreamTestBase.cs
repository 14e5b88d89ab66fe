using Akka.Streams;
using Mlops.Stream.Kafka.Settings;
using Mlops.Stream.Kafka.Tests.Infrastructure;
using Xunit.Abstractions;

namespace Mlops.Stream.Kafka.Tests.Dsl;

/// <summary>An actor system and materializer per test, a shared broker, fresh topics and groups.</summary>
public abstract class StreamTestBase : Akka.TestKit.Xunit2.TestKit
{
    protected StreamTestBase(KafkaFixture kafka, ITestOutputHelper output) : base(output: output)
    {
        Kafka = kafka;
        Materializer = Sys.Materializer();
    }

    protected KafkaFixture Kafka { get; }
    protected IMaterializer Materializer { get; }

    protected ConsumerSettings<string, string> ConsumerSettingsFor(string groupId, string? bootstrap = null) =>
        ConsumerSettings<string, string>.Create(bootstrap ?? Kafka.BootstrapServers, groupId)
            // Short session and heartbeat so rebalances in tests take well under a second.
            .WithProperty("session.timeout.ms", "6000")
            .WithProperty("heartbeat.interval.ms", "250")
            .WithProperty("reconnect.backoff.max.ms", "500");

    protected ProducerSettings<string, string> ProducerSettingsFor(string? bootstrap = null) =>
        ProducerSettings<string, string>.Create(bootstrap ?? Kafka.BootstrapServers)
            .WithProperty("reconnect.backoff.max.ms", "500");
}
