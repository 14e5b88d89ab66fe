using System.Text.Json.Serialization;

namespace Mlops.Stream.Http;

/// <summary>
/// What <c>GET /api/v1/system</c> tells an operator or the CLI about this node: which Kafka it uses
/// (and, when embedded, the address other clients can produce to) and its place in the Akka cluster.
/// </summary>
public sealed record SystemInfo(
    [property: JsonPropertyName("service_version")] string ServiceVersion,
    [property: JsonPropertyName("kafka_mode")] string KafkaMode,
    [property: JsonPropertyName("bootstrap_servers")] string BootstrapServers,
    [property: JsonPropertyName("akka_address")] string AkkaAddress,
    [property: JsonPropertyName("cluster_status")] string ClusterStatus,
    [property: JsonPropertyName("cluster_members")] int ClusterMembers)
{
    /// <summary>
    /// Where the Open Inference Protocol gRPC service listens, as bound (port 0 resolved), e.g.
    /// <c>http://127.0.0.1:8081</c>; absent when gRPC is off or not listening yet.
    /// </summary>
    [JsonPropertyName("grpc_address")]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? GrpcAddress { get; init; }
}

/// <summary>Supplies <see cref="SystemInfo"/>; the host implements it so this project needs no Akka or Kafka types.</summary>
public interface ISystemInfoSource
{
    SystemInfo Current();
}
