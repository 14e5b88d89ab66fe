using Akka.Actor;
using Akka.Cluster.Hosting;
using Akka.Hosting;
using Microsoft.Extensions.Options;
using Mlops.Stream.Actors.Registry;
using Mlops.Stream.Actors.Serving;
using Mlops.Stream.Host.Options;
using Mlops.Stream.Http;
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
            var options = sp.GetRequiredService<IOptions<ServingOptions>>().Value;
            var kafka = sp.GetRequiredService<KafkaEndpoint>();
            var kafkaOptions = sp.GetRequiredService<IOptions<KafkaOptions>>().Value;
            return new ServingContext(
                sp.GetRequiredService<IModelRegistry>(),
                options.ToOnnxOptions(),
                sp.GetRequiredService<ILoggerFactory>(),
                sp.GetRequiredService<TopicCatalog>(),
                new ServingKafkaSettings(kafka.BootstrapServers, sp.GetRequiredService<KafkaHealthMonitor>(),
                    kafkaOptions.ForConsumers(), kafkaOptions.ForProducers(), options.KafkaInFlight),
                kafka.TopicCreator);
        });
        services.AddSingleton<IInferenceGateway>(sp => new ShardedInferenceGateway(
            sp.GetRequiredService<IRequiredActor<ModelReplica>>().ActorRef,
            sp.GetRequiredService<ServedModels>(),
            sp.GetRequiredService<IModelRegistry>(),
            // One knob for how long a synchronous caller waits: the HTTP edge's infer timeout.
            sp.GetRequiredService<IOptions<InferenceApiOptions>>().Value.InferTimeout));
        services.AddHostedService<ReplicaKeeper>();
        return builder;
    }

    /// <summary>The shard region of <see cref="ModelReplica"/> entities (ids <c>&lt;model&gt;#&lt;n&gt;</c>).</summary>
    public static AkkaConfigurationBuilder WithModelReplicas(this AkkaConfigurationBuilder akka) =>
        akka.WithShardRegion<ModelReplica>(
            ReplicaRegionName,
            (_, _, resolver) => entityId => ModelReplica.Props(entityId, resolver.GetService<ServingContext>()),
            new ReplicaMessageExtractor(),
            new ShardOptions
            {
                RememberEntities = false,
                // Replicas own Kafka streams: never passivate them for being idle on HTTP, and on
                // hand-off (shutdown, rebalance) let them drain and commit before they stop.
                PassivateIdleEntityAfter = TimeSpan.Zero,
                HandOffStopMessage = StopReplica.Instance,
            });
}

/// <summary>
/// Keeps a replica running for every model with a production alias: at start (so serving begins
/// without waiting for a first message) and every few seconds after (so a replica that stopped,
/// or a model promoted meanwhile, is started again).
/// </summary>
public sealed class ReplicaKeeper(IRequiredActor<ModelReplica> replicas, ServedModels served, ILogger<ReplicaKeeper> logger) : BackgroundService
{
    private static readonly TimeSpan Interval = TimeSpan.FromSeconds(5);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var region = await replicas.GetAsync(stoppingToken);
        using var timer = new PeriodicTimer(Interval);
        do
        {
            try
            {
                foreach (var model in (await served.RefreshAsync(stoppingToken)).Keys)
                    region.Tell(new StartReplica(ReplicaId.For(model)));
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                logger.LogWarning(e, "Could not read the registry to start model replicas; trying again in {Interval}", Interval);
            }
        } while (await timer.WaitForNextTickAsync(stoppingToken));
    }
}
