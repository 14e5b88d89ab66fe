using Confluent.Kafka;

namespace Mlops.Stream.Kafka.Topics;

/// <summary>Admin client settings: the bootstrap address plus the cluster's client properties (SASL/SSL…).</summary>
internal static class AdminConfigs
{
    public static AdminClientConfig For(string bootstrapServers, IReadOnlyDictionary<string, string>? properties)
    {
        var config = new AdminClientConfig { BootstrapServers = bootstrapServers };
        if (properties is not null)
            foreach (var (key, value) in properties) config.Set(key, value);
        return config;
    }
}
