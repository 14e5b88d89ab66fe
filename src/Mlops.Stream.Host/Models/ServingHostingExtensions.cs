using Akka.Actor;
using Akka.Cluster.Hosting;
using Akka.Hosting;
using Microsoft.Extensions.Options;
using Mlops.Stream.Actors.Lifecycle;
using Mlops.Stream.Actors.Metrics;
using Mlops.Stream.Inference.Registry;
using Mlops.Stream.Actors.Serving;
using Mlops.Stream.Host.Kafka;
using Mlops.Stream.Host.Options;
using Mlops.Stream.Http;
using Mlops.Stream.Kafka;
using Mlops.Stream.Kafka.Connection;
using Mlops.Stream.Kafka.Topics;
using Mlops.Stream.Inference.Gateway;
using Mlops.Stream.Inference.Lifecycle;

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
                    KafkaClientConfigs.ConsumerProperties(kafka, kafkaOptions), kafkaOptions.ForProducers(), options.KafkaInFlight),
                kafka)
            {
                CanaryGuard = options.CanaryGuard.ToGuard(),
                KeepPreviousVersion = options.KeepPreviousVersion,
                Audit = sp.GetRequiredService<IAuditLog>(),
                Metrics = sp.GetRequiredService<ServingMetrics>(),
                HttpServedEvents = sp.GetRequiredService<HttpServedEvents>(),
            };
        });
        services.AddSingleton(sp =>
        {
            var kafka = sp.GetRequiredService<KafkaEndpoint>();
            return new HttpServedEvents(kafka.BootstrapServers, sp.GetRequiredService<IOptions<KafkaOptions>>().Value.ForProducers(),
                sp.GetRequiredService<ServingMetrics>(), sp.GetRequiredService<ILoggerFactory>().CreateLogger<HttpServedEvents>());
        });
        services.AddSingleton<IInferenceGateway>(sp => new ShardedInferenceGateway(
            sp.GetRequiredService<IRequiredActor<ModelReplica>>().ActorRef,
            sp.GetRequiredService<ServedModels>(),
            sp.GetRequiredService<IModelRegistry>(),
            // One knob for how long a synchronous caller waits: the HTTP edge's infer timeout.
            sp.GetRequiredService<IOptions<InferenceApiOptions>>().Value.InferTimeout));
        services.AddHostedService<ReplicaKeeper>();
        services.AddHealthChecks().AddCheck<ModelsReadyCheck>("models", tags: [HealthTags.Ready]);
        services.AddSingleton<IAuditLog>(sp =>
        {
            var kafka = sp.GetRequiredService<KafkaEndpoint>();
            var kafkaOptions = sp.GetRequiredService<IOptions<KafkaOptions>>().Value;
            var config = new Confluent.Kafka.ProducerConfig { BootstrapServers = kafka.BootstrapServers };
            foreach (var (key, value) in kafkaOptions.ForProducers()) config.Set(key, value);
            return new AuditLog(new Confluent.Kafka.ProducerBuilder<string?, byte[]>(config).Build(),
                sp.GetRequiredService<TopicCatalog>()[TopicFamilies.Audit].TopicFor(null),
                sp.GetRequiredService<ILoggerFactory>().CreateLogger("Mlops.Stream.Audit"));
        });
        services.AddSingleton(sp => new ModelAdministration(sp.GetRequiredService<IModelRegistry>(), sp.GetRequiredService<IAuditLog>(),
            metrics: sp.GetRequiredService<ServingMetrics>()));
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
/// Drives every replica to what the registry's aliases say: a replica runs for every model with a
/// production alias, started at host start (serving begins without waiting for a first message),
/// and is told its target version again every few seconds and whenever an <c>aliases.json</c>
/// changes (file events are fast, the periodic pass makes sure nothing is missed). A replica that
/// stopped is started again by the next pass.
/// </summary>
public sealed class ReplicaKeeper(
    IRequiredActor<ModelReplica> replicas, ServedModels served, IOptions<RegistryOptions> registry, ILogger<ReplicaKeeper> logger) : BackgroundService
{
    private static readonly TimeSpan Interval = TimeSpan.FromSeconds(5);
    private readonly SemaphoreSlim _changed = new(0, 1);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var region = await replicas.GetAsync(stoppingToken);
        using var watcher = WatchAliases(registry.Value.FullPath);
        var running = new HashSet<string>();
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                var targets = await served.RefreshAsync(stoppingToken);
                foreach (var (model, aliases) in targets)
                    region.Tell(SetTargets.From(ReplicaId.For(model), aliases));
                // Models undeployed (or deleted) since the last pass: their replicas drain and stop.
                foreach (var model in running.Where(m => !targets.ContainsKey(m)))
                    region.Tell(new RetireReplica(ReplicaId.For(model)));
                running = targets.Keys.ToHashSet();
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                logger.LogWarning(e, "Could not read the registry to drive model replicas; trying again in {Interval}", Interval);
            }
            // Wake on a change of any aliases.json, or after the interval.
            await _changed.WaitAsync(Interval, stoppingToken);
        }
    }

    private FileSystemWatcher? WatchAliases(string root)
    {
        try
        {
            Directory.CreateDirectory(root);
            var watcher = new FileSystemWatcher(root, AliasesFileName) { IncludeSubdirectories = true, EnableRaisingEvents = true };
            FileSystemEventHandler signal = (_, _) => Signal();
            watcher.Changed += signal;
            watcher.Created += signal;
            watcher.Renamed += (_, _) => Signal();   // atomic writes arrive as a rename onto aliases.json
            return watcher;
        }
        catch (Exception e) when (e is IOException or ArgumentException or PlatformNotSupportedException)
        {
            logger.LogWarning(e, "Cannot watch {Root} for alias changes; relying on the {Interval} periodic check", root, Interval);
            return null;
        }
    }

    private void Signal()
    {
        if (_changed.CurrentCount == 0)
        {
            try { _changed.Release(); }
            catch (SemaphoreFullException) { /* already signalled */ }
        }
    }

    private const string AliasesFileName = "aliases.json";
}
