using Microsoft.Extensions.Logging;
using Mlops.Stream.Actors.Metrics;
using Mlops.Stream.Inference.Registry;
using Mlops.Stream.Kafka.Connection;
using Mlops.Stream.Kafka.Topics;

namespace Mlops.Stream.Actors.Drift;

/// <summary>
/// What the drift jobs need from their process (a node, or the standalone <c>drift</c> verb): the
/// registry their references come from, Kafka, the settings and where to count. Built once by the host.
/// </summary>
public sealed record DriftContext(
    IModelRegistry Registry,
    TopicCatalog Topics,
    DriftKafkaSettings Kafka,
    DriftJobSettings Settings,
    DriftMetrics Metrics,
    ILoggerFactory LoggerFactory)
{
    /// <summary>Creates a job's topics when they are missing (a broker a node has not provisioned yet); null leaves that to others.</summary>
    public KafkaEndpoint? Endpoint { get; init; }

    public TimeProvider Clock { get; init; } = TimeProvider.System;

    /// <summary>Audit events and the webhook when a version starts or stops drifting; null: the log line only.</summary>
    public DriftAlerts? Alerts { get; init; }

    /// <summary>Withdraws a drifting canary of the models it is enabled for; null: canaries are never withdrawn on drift.</summary>
    public DriftCanaryGuard? CanaryGuard { get; init; }

    /// <summary>The category the jobs log under.</summary>
    public const string LogCategory = "Mlops.Stream.Drift";
}
