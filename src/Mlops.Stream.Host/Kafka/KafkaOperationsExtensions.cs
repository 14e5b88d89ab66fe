using Mlops.Stream.Http;

namespace Mlops.Stream.Host.Kafka;

public static class KafkaOperationsExtensions
{
    /// <summary>
    /// What the topic, tail and produce routes (<see cref="TopicsApi"/>) run on: the broker reader,
    /// the topic inspector, model tails and the request producer, all with the node's Kafka client
    /// properties; the cluster's audit trail read from the audit topic, and the drift windows read from
    /// the models' drift topics, and past windows of served events for drift baselines.
    /// </summary>
    public static IServiceCollection AddMlopsKafkaOperations(this IServiceCollection services)
    {
        services.AddSingleton<KafkaClientConfigs>();
        services.AddSingleton<KafkaAdminReader>();
        services.AddSingleton<ITopicInspector, KafkaTopicInspector>();
        services.AddSingleton<IModelTopicTail, KafkaModelTail>();
        services.AddSingleton<KafkaRequestProducer>();
        services.AddSingleton<IRequestProducer>(sp => sp.GetRequiredService<KafkaRequestProducer>());
        services.AddSingleton<IFeedbackProducer>(sp => sp.GetRequiredService<KafkaRequestProducer>());
        services.AddSingleton<KafkaRecentRecords>();
        services.AddSingleton<Mlops.Stream.Inference.Lifecycle.IAuditHistory, KafkaAuditHistory>();
        services.AddSingleton<IDriftHistory, KafkaDriftHistory>();
        services.AddSingleton<IServedTraffic, KafkaServedTraffic>();
        services.AddTopicsApi();
        return services;
    }
}
