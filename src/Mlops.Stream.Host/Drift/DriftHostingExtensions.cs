using Akka.Cluster.Hosting;
using Akka.Hosting;
using Microsoft.Extensions.Options;
using Mlops.Stream.Actors.Drift;
using Mlops.Stream.Actors.Metrics;
using Mlops.Stream.Actors.Serving;
using Mlops.Stream.Host.Kafka;
using Mlops.Stream.Host.Options;
using Mlops.Stream.Inference.Lifecycle;
using Mlops.Stream.Inference.Registry;
using Mlops.Stream.Kafka;
using Mlops.Stream.Kafka.Connection;
using Mlops.Stream.Kafka.Topics;
using Prometheus;

namespace Mlops.Stream.Host.Drift;

public static class DriftHostingExtensions
{
    /// <summary>The cluster singleton that runs the drift jobs.</summary>
    public const string SingletonName = "drift-jobs";

    /// <summary>
    /// What the drift jobs are built from (section <c>Drift</c>, the node's registry, Kafka and
    /// metrics registry). The jobs themselves run in the actor system: <see cref="WithDriftJobs"/>.
    /// </summary>
    public static IHostApplicationBuilder AddMlopsDrift(this IHostApplicationBuilder builder)
    {
        builder.Services.AddValidatedOptions<DriftJobOptions, DriftJobOptionsValidator>(DriftJobOptions.Section);
        builder.Services.AddSingleton(sp => new DriftMetrics(sp.GetRequiredService<CollectorRegistry>()));
        // A node audits drift alerts in its audit log; the standalone drift verb has none, so only the webhook.
        builder.Services.AddSingleton(sp => new DriftAlerts(sp.GetService<IAuditLog>(),
            sp.GetRequiredService<IOptions<DriftJobOptions>>().Value.AlertWebhook, sp.GetRequiredService<DriftMetrics>(),
            sp.GetRequiredService<ILoggerFactory>().CreateLogger(DriftContext.LogCategory)));
        builder.Services.AddSingleton(CreateContext);
        return builder;
    }

    /// <summary>
    /// The drift jobs of the cluster: one <see cref="DriftJobs"/> cluster singleton (on the oldest
    /// node) running one job per model with a production version, so each window is computed once
    /// in the cluster; when its node leaves, the jobs drain and commit before they start on the next
    /// one (<see cref="StopDrift"/> is the hand-over message). With <paramref name="enabled"/> false
    /// (<c>Drift:Enabled</c>) no job runs here, e.g. because they run standalone (the <c>drift</c> verb).
    /// Every node exports the drift metric families, whether it runs the jobs or not.
    /// </summary>
    public static AkkaConfigurationBuilder WithDriftJobs(this AkkaConfigurationBuilder akka, bool enabled)
    {
        akka.WithActors((_, _, resolver) => resolver.GetService<DriftMetrics>());
        if (!enabled) return akka;
        return akka.WithSingleton<DriftJobs>(SingletonName, (_, _, resolver) =>
            {
                var served = resolver.GetService<ServedModels>();
                return DriftJobs.Props(async ct => [.. (await served.RefreshAsync(ct)).Keys], resolver.GetService<DriftContext>());
            },
            new ClusterSingletonOptions { TerminationMessage = StopDrift.Instance },
            createProxyToo: false);
    }

    /// <summary>The jobs' context from the node's services, with their clients configured like every other client of the node.</summary>
    internal static DriftContext CreateContext(IServiceProvider services)
    {
        var kafka = services.GetRequiredService<KafkaEndpoint>();
        var kafkaOptions = services.GetRequiredService<IOptions<KafkaOptions>>().Value;
        return new DriftContext(
            services.GetRequiredService<IModelRegistry>(),
            services.GetRequiredService<TopicCatalog>(),
            new DriftKafkaSettings(kafka.BootstrapServers, services.GetRequiredService<KafkaHealthMonitor>(),
                KafkaClientConfigs.ConsumerProperties(kafka, kafkaOptions), kafkaOptions.ForProducers()),
            services.GetRequiredService<IOptions<DriftJobOptions>>().Value.ToSettings(),
            services.GetRequiredService<DriftMetrics>(),
            services.GetRequiredService<ILoggerFactory>())
        {
            Endpoint = kafka,
            Alerts = services.GetRequiredService<DriftAlerts>(),
            CanaryGuard = CanaryGuard(services),
        };
    }

    /// <summary>The canary guard when <c>Drift:WithdrawCanaryOnDrift</c> names a model; it audits where the process has an audit log.</summary>
    private static DriftCanaryGuard? CanaryGuard(IServiceProvider services)
    {
        var withdrawal = services.GetRequiredService<IOptions<DriftJobOptions>>().Value.CanaryWithdrawal;
        return withdrawal.Models.Count == 0 ? null : new DriftCanaryGuard(services.GetRequiredService<IModelRegistry>(), services.GetService<IAuditLog>(),
            withdrawal, services.GetRequiredService<ILoggerFactory>().CreateLogger(DriftContext.LogCategory));
    }
}
