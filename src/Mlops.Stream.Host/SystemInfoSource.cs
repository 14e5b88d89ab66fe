using System.Reflection;
using Akka.Actor;
using Mlops.Stream.Grpc;
using Mlops.Stream.Http;
using Mlops.Stream.Kafka.Connection;

namespace Mlops.Stream.Host;

/// <summary>Answers <c>/api/v1/system</c> from the live Kafka endpoint, actor system and gRPC server.</summary>
public sealed class SystemInfoSource(KafkaEndpoint kafka, ActorSystem system, GrpcInferenceServer grpc) : ISystemInfoSource
{
    private static readonly string Version =
        typeof(SystemInfoSource).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion
        ?? typeof(SystemInfoSource).Assembly.GetName().Version?.ToString()
        ?? "unknown";

    public SystemInfo Current()
    {
        var cluster = Akka.Cluster.Cluster.Get(system);
        var state = cluster.State;
        return new SystemInfo(
            Version,
            kafka.Mode == KafkaMode.Embedded ? "embedded" : "external",
            kafka.BootstrapServers,
            cluster.SelfAddress.ToString(),
            cluster.SelfMember.Status.ToString(),
            state.Members.Count)
        {
            GrpcAddress = grpc.Address,
        };
    }
}
