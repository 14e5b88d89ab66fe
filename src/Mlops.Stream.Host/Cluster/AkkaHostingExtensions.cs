using Akka.Cluster.Hosting;
using Akka.Cluster.Hosting.SBR;
using Akka.Cluster.Sharding;
using Akka.Cluster.Tools.Singleton;
using Akka.Hosting;
using Akka.Remote.Hosting;
using Mlops.Stream.Host.Drift;
using Mlops.Stream.Host.Logging;
using Mlops.Stream.Host.Models;
using Mlops.Stream.Host.Options;
using Mlops.Stream.Host.Shutdown;
using Mlops.Stream.Http;

namespace Mlops.Stream.Host.Cluster;

public static class AkkaHostingExtensions
{
    /// <summary>
    /// The node's actor system: remoting on <c>Akka:Hostname</c>/<c>Akka:Port</c>, cluster membership
    /// (joining the seeds, or itself to form a one-node cluster), Cluster.Sharding configured for the
    /// model replica entities, the drift jobs' cluster singleton, Akka logs through ILogger, and Akka.Hosting's liveness and cluster
    /// readiness checks behind <c>/healthz</c>; and the sources of the cluster admin API
    /// (<c>/api/v1/cluster</c>, <c>/api/v1/shards</c>).
    /// </summary>
    public static IHostApplicationBuilder AddMlopsAkka(this IHostApplicationBuilder builder)
    {
        // The system name is needed before the container exists, so these options are validated now.
        var options = builder.Configuration.BindValidatedNow<AkkaOptions, AkkaOptionsValidator>(AkkaOptions.Section);
        builder.Services.AddValidatedOptions<AkkaOptions, AkkaOptionsValidator>(AkkaOptions.Section);
        var drift = builder.Configuration.BindValidatedNow<DriftJobOptions, DriftJobOptionsValidator>(DriftJobOptions.Section);
        var shutdown = builder.Configuration.BindValidatedNow<ShutdownOptions, ShutdownOptionsValidator>(ShutdownOptions.Section);

        builder.Services.AddAkka(options.SystemName, (akka, services) =>
        {
            akka.AddHocon(RemotingOverrides, HoconAddMode.Prepend);
            akka.WithLogBridge(services)
                .WithRemoting(new RemoteOptions
                {
                    HostName = options.Hostname,
                    Port = options.Port,
                    PublicHostName = string.IsNullOrWhiteSpace(options.PublicHostname) ? null : options.PublicHostname,
                })
                .WithClustering(new ClusterOptions { SeedNodes = options.SeedNodes, SplitBrainResolver = new KeepMajorityOption() })
                .AddHocon(FailoverSettings(options), HoconAddMode.Prepend)
                .AddHocon(ShutdownSettings(shutdown), HoconAddMode.Prepend)
                .WithMlopsSharding()
                .WithModelReplicas()
                .WithDriftJobs(drift.Enabled)
                .WithActorSystemLivenessCheck(tags: [HealthTags.Live])
                .WithAkkaClusterReadinessCheck(tags: [HealthTags.Ready]);

            if (options.SeedNodes.Length == 0)
            {
                // With port 0 the address is only known once remoting has bound, so a seed list
                // cannot name it; joining SelfAddress after start works for any port.
                akka.AddStartup((system, _) =>
                {
                    var cluster = Akka.Cluster.Cluster.Get(system);
                    cluster.Join(cluster.SelfAddress);
                });
            }
        });
        builder.Services.AddSingleton<IClusterMembership, ClusterMembership>();
        builder.Services.AddSingleton(sp =>
            new ShardDirectory(sp.GetRequiredService<Akka.Actor.ActorSystem>(), ServingHostingExtensions.ReplicaRegionName));
        builder.Services.AddSingleton<IShardDirectory>(sp => sp.GetRequiredService<ShardDirectory>());
        return builder;
    }

    /// <summary>
    /// Puts Cluster.Sharding (and the singleton it runs its coordinator in) into the configuration and
    /// starts the extension with the system, so <c>akka.cluster.sharding</c> is set and a bad setting
    /// fails at start, before the first shard region is registered.
    /// </summary>
    /// <remarks>
    /// Akka's default coordinator store is "persistence", which needs a durable journal this service
    /// does not have (the in-memory fallback would lose shard locations on restart). Model replicas keep
    /// their real state in Kafka offsets, so the coordinator state lives in distributed data and
    /// entities are not remembered.
    /// </remarks>
    private static AkkaConfigurationBuilder WithMlopsSharding(this AkkaConfigurationBuilder akka) =>
        akka.WithShardingDistributedData(new ShardingDDataOptions())
            .AddHocon(ShardingOverrides, HoconAddMode.Prepend)
            .AddHocon(ClusterSharding.DefaultConfig().WithFallback(ClusterSingleton.DefaultConfig()), HoconAddMode.Append)
            .AddStartup((system, _) => ClusterSharding.Get(system));

    /// <summary>
    /// DotNetty's default on Linux sets SO_REUSEPORT on the remoting socket, so a second node on the
    /// same port binds too and both claim one address (the kernel splits connections between them).
    /// Off, the second bind fails and the start stops (<see cref="ConfigurationErrors"/> names
    /// <c>Akka:Port</c>); .NET still sets SO_REUSEADDR, so a restart is not blocked by TIME_WAIT.
    /// </summary>
    private const string RemotingOverrides = "akka.remote.dot-netty.tcp.tcp-reuse-addr = off";

    /// <summary>
    /// Failover timing for a LAN or loopback cluster (README, "Run a cluster"): a member silent for
    /// the failure detector's 3 s is unreachable (requests stop going to it at once, see
    /// <see cref="Actors.Placement.NodeLiveness"/>); the split-brain resolver downs it after
    /// <see cref="AkkaOptions.DownUnreachableAfter"/> more, and its replicas then restart on the
    /// survivors (the replica keeper sends to them on the member change). Kafka reassigns its
    /// partitions independently, after the consumers' <c>session.timeout.ms</c> (6 s, see <see cref="Kafka.KafkaClientConfigs"/>).
    /// </summary>
    private static string FailoverSettings(AkkaOptions options) => $$"""
        akka.cluster {
          failure-detector.acceptable-heartbeat-pause = 3s
          split-brain-resolver.stable-after = {{(int)options.DownUnreachableAfter.TotalMilliseconds}}ms
        }
        """;

    /// <summary>
    /// The shard region's graceful stop (its replicas drain their Kafka streams and hand over) gets
    /// half of <see cref="ShutdownOptions.Timeout"/>, the HTTP and gRPC drain before it the rest, so
    /// a stop stays within the limit even when a drain hangs (Kafka down): the region then stops
    /// anyway and what was not committed is redelivered.
    /// </summary>
    private static string ShutdownSettings(ShutdownOptions shutdown) =>
        $"akka.coordinated-shutdown.phases.cluster-sharding-shutdown-region.timeout = {(int)(shutdown.Timeout.TotalMilliseconds / 2)}ms";

    private const string ShardingOverrides = """
        akka.cluster.sharding {
          state-store-mode = ddata
          remember-entities = off
          passivate-idle-entity-after = off
        }
        """;
}
