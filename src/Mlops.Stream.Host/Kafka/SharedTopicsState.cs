using Mlops.Stream.Kafka.Topics;

namespace Mlops.Stream.Host.Kafka;

/// <summary>
/// Whether the topics shared by all models (the audit trail) exist yet. Written by
/// <see cref="SharedTopicsProvisioningService"/>, read by the readiness check. Thread-safe: one
/// immutable snapshot replaced atomically.
/// </summary>
public sealed class SharedTopicsState
{
    private volatile Snapshot _current = new(null, "not provisioned yet");

    /// <summary>The last successful report, or null while provisioning has not succeeded.</summary>
    public ProvisioningReport? Report => _current.Report;

    /// <summary>Why provisioning has not succeeded yet; null once it has.</summary>
    public string? Problem => _current.Problem;

    public void Provisioned(ProvisioningReport report) => _current = new Snapshot(report, null);

    public void Failed(string problem) => _current = new Snapshot(null, problem);

    private sealed record Snapshot(ProvisioningReport? Report, string? Problem);
}
