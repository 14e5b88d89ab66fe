using Akka.Actor;
using Akka.Cluster.Sharding;
using Mlops.Stream.Actors.Placement;
using Akka.Hosting;
using Microsoft.Extensions.Options;
using Mlops.Stream.Actors.Lifecycle;
using Mlops.Stream.Actors.Metrics;
using Mlops.Stream.Actors.Serving;
using Mlops.Stream.Host.Cluster;
using Mlops.Stream.Host.Kafka;
using Mlops.Stream.Host.Options;
using Mlops.Stream.Http;
using Mlops.Stream.Inference.Caching;
using Mlops.Stream.Inference.Gateway;
using Mlops.Stream.Inference.Lifecycle;
using Mlops.Stream.Inference.Registry;
using Mlops.Stream.Kafka;
using Mlops.Stream.Kafka.Connection;
using Mlops.Stream.Kafka.Topics;

namespace Mlops.Stream.Host.Models;

public static class ServingHostingExtensions
{
    public const string ReplicaRegionName = "model-replica";

    /// <summary>
    /// Model serving: the context replicas are built from, the cache of served models, the keeper
    /// that starts a replica for every production model and restarts it after a crash, and the
    /// gateway the HTTP edge uses. The shard region itself is registered by <see cref="WithModelReplicas"/>.
    /// </summary>
    public static IHostApplicationBuilder AddMlopsServing(this IHostApplicationBuilder builder)
    {
        var services = builder.Services;
        services.AddValidatedOptions<ServingOptions, ServingOptionsValidator>(ServingOptions.Section);
        services.AddSingleton(sp => new ServedModels(sp.GetRequiredService<IModelRegistry>()));
        services.AddSingleton(sp =>
        {
            var cache = sp.GetRequiredService<IOptions<ServingOptions>>().Value.ToModelCache();
            sp.GetRequiredService<ServingMetrics>().TrackCache(cache);
            return cache;
        });
        services.AddSingleton(sp =>
        {
            var options = sp.GetRequiredService<IOptions<ServingOptions>>().Value;
            var kafka = sp.GetRequiredService<KafkaEndpoint>();
            var kafkaOptions = sp.GetRequiredService<IOptions<KafkaOptions>>().Value;
            return new ServingContext(
                sp.GetRequiredService<IModelRegistry>(),
                options.ToOnnxOptions(),
                sp.GetRequiredService<ILoggerFactory>(),
                sp.GetRequiredService<TopicCatalog>(),
                new ServingKafkaSettings(kafka.BootstrapServers, sp.GetRequiredService<KafkaHealthMonitor>(),
                    KafkaClientConfigs.ConsumerProperties(kafka, kafkaOptions), kafkaOptions.ForProducers(), options.KafkaInFlight,
                    kafkaOptions.IsExactlyOnce ? KafkaDelivery.ExactlyOnce : KafkaDelivery.AtLeastOnce),
                kafka)
            {
                CanaryGuard = options.CanaryGuard.ToGuard(),
                KeepPreviousVersion = options.KeepPreviousVersion,
                Audit = sp.GetRequiredService<IAuditLog>(),
                Metrics = sp.GetRequiredService<ServingMetrics>(),
                HttpServedEvents = sp.GetRequiredService<HttpServedEvents>(),
                LocalReplicas = sp.GetRequiredService<LocalReplicas>(),
                ModelCache = sp.GetRequiredService<ModelCache>(),
                // A cold start waits for room no longer than an HTTP caller waits for its answer.
                ColdLoadWait = sp.GetRequiredService<IOptions<InferenceApiOptions>>().Value.InferTimeout,
                RequestBacklog = new KafkaRequestBacklog(sp.GetRequiredService<ITopicInspector>(), sp.GetRequiredService<TopicCatalog>()),
                BacklogCheckInterval = options.KafkaBacklogCheck,
            };
        });
        services.AddSingleton(sp =>
        {
            var kafka = sp.GetRequiredService<KafkaEndpoint>();
            return new HttpServedEvents(kafka.BootstrapServers, sp.GetRequiredService<IOptions<KafkaOptions>>().Value.ForProducers(),
                sp.GetRequiredService<ServingMetrics>(), sp.GetRequiredService<ILoggerFactory>().CreateLogger<HttpServedEvents>());
        });
        services.AddSingleton<LocalReplicas>();
        services.AddSingleton<ReplicaPlan>();
        services.AddSingleton(sp => NodeLiveness.Start(sp.GetRequiredService<ActorSystem>()));
        services.AddSingleton<ReplicaLocator>();
        services.AddSingleton<IReplicaLocations>(sp => sp.GetRequiredService<ReplicaLocator>());
        services.AddHostedService(sp => sp.GetRequiredService<ReplicaLocator>());
        services.AddSingleton(sp =>
        {
            var system = sp.GetRequiredService<ActorSystem>();
            return new ReplicaDirectory(sp.GetRequiredService<LocalReplicas>(), sp.GetRequiredService<IReplicaLocations>(),
                sp.GetRequiredService<ReplicaPlan>(), sp.GetRequiredService<NodeLiveness>(),
                (node, entityId) => system.ActorSelection(ReplicaPath(node, entityId)));
        });
        services.AddSingleton<IInferenceGateway>(sp => new ShardedInferenceGateway(
            sp.GetRequiredService<IRequiredActor<ModelReplica>>().ActorRef,
            sp.GetRequiredService<ServedModels>(),
            sp.GetRequiredService<IModelRegistry>(),
            // One knob for how long a synchronous caller waits: the HTTP edge's infer timeout.
            sp.GetRequiredService<IOptions<InferenceApiOptions>>().Value.InferTimeout,
            sp.GetRequiredService<ReplicaDirectory>()));
        services.AddHostedService<ReplicaKeeper>();
        services.AddHostedService<Autoscaling.Autoscaler>();
        services.AddHealthChecks().AddCheck<ModelsReadyCheck>("models", tags: [HealthTags.Ready]);
        services.AddSingleton<IAuditLog>(sp =>
        {
            return AuditLog.ToKafka(sp.GetRequiredService<KafkaEndpoint>().BootstrapServers,
                sp.GetRequiredService<IOptions<KafkaOptions>>().Value.ForProducers(),
                sp.GetRequiredService<TopicCatalog>()[TopicFamilies.Audit].TopicFor(null),
                sp.GetRequiredService<ILoggerFactory>().CreateLogger("Mlops.Stream.Audit"));
        });
        services.AddSingleton(sp => new ModelAdministration(sp.GetRequiredService<IModelRegistry>(), sp.GetRequiredService<IAuditLog>(),
            metrics: sp.GetRequiredService<ServingMetrics>(),
            topics: new CatalogTopicCheck(sp.GetRequiredService<TopicCatalog>()),
            maxUploadBytes: sp.GetRequiredService<IOptions<RegistryOptions>>().Value.MaxUploadBytes));
        return builder;
    }

    /// <summary>
    /// Where sharding runs a replica on <paramref name="node"/>: shard and entity are both named by the
    /// entity id (one shard per replica), escaped as Akka names them.
    /// </summary>
    public static ActorPath ReplicaPath(Address node, string entityId)
    {
        var name = Uri.EscapeDataString(entityId);
        return new RootActorPath(node) / "system" / "sharding" / ReplicaRegionName / name / name;
    }

    /// <summary>
    /// The shard region of <see cref="ModelReplica"/> entities (ids <c>&lt;model&gt;#&lt;n&gt;</c>, one
    /// shard each), placed by <see cref="ReplicaAllocationStrategy"/> so a model's replicas spread
    /// over the nodes. Started here rather than through Akka.Hosting's <c>WithShardRegion</c>, which
    /// takes no allocation strategy.
    /// </summary>
    /// <remarks>
    /// Replicas own Kafka streams: they are never passivated for being idle on HTTP
    /// (<c>passivate-idle-entity-after = off</c> in the sharding configuration), and on hand-off
    /// (shutdown, rebalance) <see cref="StopReplica"/> lets them drain and commit before they stop.
    /// </remarks>
    public static AkkaConfigurationBuilder WithModelReplicas(this AkkaConfigurationBuilder akka) =>
        akka.WithActors((system, registry, resolver) =>
        {
            var context = resolver.GetService<ServingContext>();
            var region = ClusterSharding.Get(system).Start(
                ReplicaRegionName,
                entityId => ModelReplica.Props(entityId, context),
                ClusterShardingSettings.Create(system).WithRememberEntities(false),
                new ReplicaMessageExtractor(),
                new ReplicaAllocationStrategy(),
                StopReplica.Instance);
            registry.Register<ModelReplica>(region);
        });
}
