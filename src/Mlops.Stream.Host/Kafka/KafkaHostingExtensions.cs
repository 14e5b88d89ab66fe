using Microsoft.Extensions.Options;
using Mlops.Stream.Host.Options;
using Mlops.Stream.Http;
using Mlops.Stream.Kafka;
using Mlops.Stream.Kafka.Connection;
using Mlops.Stream.Kafka.Topics;

namespace Mlops.Stream.Host.Kafka;

public static class KafkaHostingExtensions
{
    /// <summary>
    /// Kafka for the node: the external cluster in <c>Kafka:BootstrapServers</c>, or an embedded
    /// in-memory one owned by the container (stopped at shutdown) when that is empty; the audit topic
    /// provisioned at start; readiness checks for reachability and topics; the clients behind the topic, tail and produce routes.
    /// </summary>
    public static IHostApplicationBuilder AddMlopsKafka(this IHostApplicationBuilder builder)
    {
        var services = builder.Services;
        services.AddValidatedOptions<KafkaOptions, KafkaOptionsValidator>(KafkaOptions.Section);
        services.AddSingleton(_ => TopicCatalog.Default);
        services.AddSingleton(StartKafka);
        services.AddSingleton<SharedTopicsState>();
        services.AddHostedService<SharedTopicsProvisioningService>();
        services.AddSingleton<KafkaReachableCheck>();
        services.AddMlopsKafkaOperations();
        // One monitor for every stream of the node: their outages show in the log and in readiness.
        services.AddSingleton(sp => new KafkaHealthMonitor(sp.GetRequiredService<ILoggerFactory>().CreateLogger("Mlops.Stream.Kafka.Health")));
        services.AddHealthChecks()
            .AddCheck<KafkaReachableCheck>("kafka", tags: [HealthTags.Ready])
            .AddCheck<SharedTopicsCheck>("kafka-shared-topics", tags: [HealthTags.Ready])
            .AddCheck<KafkaClientsCheck>("kafka-clients", tags: [HealthTags.Ready]);
        return builder;
    }

    private static KafkaEndpoint StartKafka(IServiceProvider services)
    {
        var options = services.GetRequiredService<IOptions<KafkaOptions>>().Value;
        var loggers = services.GetRequiredService<ILoggerFactory>();
        var logger = loggers.CreateLogger("Mlops.Stream.Kafka");
        // Before the first client: every client of the node logs through it (see LibrdkafkaLog).
        LibrdkafkaLog.UseLogger(loggers);
        if (!options.IsEmbedded)
        {
            logger.LogInformation("Kafka: external cluster at {BootstrapServers}", options.BootstrapServers);
            return KafkaEndpoint.External(options.BootstrapServers, options.ClientProperties);
        }

        var endpoint = KafkaEndpoint.StartEmbedded(options.EmbeddedBrokerCount, logger);
        logger.LogWarning(
            "Kafka: {Key} is empty, so an EMBEDDED in-memory Kafka runs inside this process at {BootstrapServers}. " +
            "Its data is lost when the process stops. Other clients can produce to it with bootstrap.servers={BootstrapServers}. " +
            "Set {Key} to use a real cluster.",
            $"{KafkaOptions.Section}:{nameof(KafkaOptions.BootstrapServers)}", endpoint.BootstrapServers, endpoint.BootstrapServers,
            $"{KafkaOptions.Section}:{nameof(KafkaOptions.BootstrapServers)}");
        return endpoint;
    }
}
