using Microsoft.Extensions.Logging;
using Mlops.Stream.Actors.Onnx;
using Mlops.Stream.Actors.Registry;
using Mlops.Stream.Kafka.Topics;

namespace Mlops.Stream.Actors.Serving;

/// <summary>
/// What a model replica needs from its node: the registry, how to run ONNX, and (when the node
/// talks to Kafka) how to reach it and create the model's topics. Built once by the host.
/// </summary>
public sealed record ServingContext(
    IModelRegistry Registry,
    OnnxModelOptions OnnxOptions,
    ILoggerFactory LoggerFactory,
    TopicCatalog Topics,
    ServingKafkaSettings? Kafka,
    ITopicCreator? TopicCreator)
{
    /// <summary>How long a failed load waits before the replica tries again.</summary>
    public TimeSpan RetryLoadAfter { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>How long a failed Kafka pipeline waits before it is started again.</summary>
    public TimeSpan RestartPipelineAfter { get; init; } = TimeSpan.FromSeconds(2);
}
