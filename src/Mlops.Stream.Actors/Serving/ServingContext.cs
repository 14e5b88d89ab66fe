using Microsoft.Extensions.Logging;
using Mlops.Stream.Inference.Caching;
using Mlops.Stream.Inference.Gateway;
using Mlops.Stream.Inference.Lifecycle;
using Mlops.Stream.Inference.Onnx;
using Mlops.Stream.Inference.Registry;
using Mlops.Stream.Kafka.Connection;
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
    KafkaEndpoint? Endpoint)
{
    /// <summary>How long a failed load waits before the replica tries again.</summary>
    public TimeSpan RetryLoadAfter { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>How long a failed Kafka pipeline waits before it is started again.</summary>
    public TimeSpan RestartPipelineAfter { get; init; } = TimeSpan.FromSeconds(2);

    /// <summary>
    /// How long a restarted Kafka stream must run before an earlier failure is forgiven: a stream
    /// that fails again sooner keeps failing, and the model is reported not ready until it has run
    /// this long (or its replica is replaced).
    /// </summary>
    public TimeSpan StreamStableAfter { get; init; } = TimeSpan.FromMinutes(1);

    /// <summary>Where HTTP inferences' served events go; null when the node has no Kafka.</summary>
    public HttpServedEvents? HttpServedEvents { get; init; }

    /// <summary>Automatic canary rollback; null turns it off.</summary>
    public CanaryGuard? CanaryGuard { get; init; }

    /// <summary>Keep the replaced version's session loaded after a swap, for an instant rollback (costs its memory).</summary>
    public bool KeepPreviousVersion { get; init; } = true;

    /// <summary>Where the replica's requests, batches, loads and swaps are counted; detached (not exported) unless the host gives its own.</summary>
    public Metrics.ServingMetrics Metrics { get; init; } = Actors.Metrics.ServingMetrics.Detached();

    /// <summary>Where swap outcomes and automatic rollbacks are recorded, beside the admin changes.</summary>
    public IAuditLog? Audit { get; init; }

    /// <summary>
    /// The node's budget for loaded models, shared by its replicas: with a budget, a replica that has
    /// no room stays unloaded until its first request, and idle models are evicted least recently used
    /// first. Unbounded by default (every deployed model loaded).
    /// </summary>
    public ModelCache ModelCache { get; init; } = new();

    /// <summary>How long a cold start waits for room in the budget (busy models to become idle) before its requests get 503.</summary>
    public TimeSpan ColdLoadWait { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// Where a replica whose model is not loaded reads the records waiting in its request topic, so
    /// Kafka traffic loads it as a request does; null when the node has no Kafka.
    /// </summary>
    public IRequestBacklog? RequestBacklog { get; init; }

    /// <summary>How often a replica whose model is not loaded reads <see cref="RequestBacklog"/> (the node's <c>Inference:KafkaBacklogCheck</c>).</summary>
    public TimeSpan BacklogCheckInterval { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>Requests a replica holds while its model loads on demand; more get 503 at once (nothing buffers without bound).</summary>
    public int MaxRequestsWaitingForLoad { get; init; } = 1000;

    /// <summary>Where replicas register themselves, so this node's HTTP requests reach them without a hop; null when nothing routes locally.</summary>
    public Placement.LocalReplicas? LocalReplicas { get; init; }
}

/// <summary>
/// When a canary is withdrawn without a human: after at least <see cref="MinRequests"/> requests,
/// an error rate above <see cref="MaxErrorRate"/> or a p99 latency above <see cref="MaxP99"/>.
/// </summary>
public sealed record CanaryGuard(double MaxErrorRate, TimeSpan MaxP99, int MinRequests)
{
    public TimeSpan CheckEvery { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>Why the canary breaches the guard, or null while it does not (or has too few requests to judge).</summary>
    public string? Breach(VersionStats stats)
    {
        if (stats.Total < MinRequests) return null;
        if (stats.ErrorRate > MaxErrorRate)
            return $"error rate {stats.ErrorRate:P1} over {stats.Total} requests exceeds {MaxErrorRate:P1}";
        if (stats.P99Ms > MaxP99.TotalMilliseconds)
            return $"p99 latency {stats.P99Ms:F1} ms over {stats.Total} requests exceeds {MaxP99.TotalMilliseconds:F1} ms";
        return null;
    }
}
