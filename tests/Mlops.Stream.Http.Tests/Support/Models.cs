using Mlops.Stream.Inference.Gateway;
using Mlops.Stream.Inference.Wire;

namespace Mlops.Stream.Http.Tests.Support;

/// <summary>A registry as the gateway would report it: one model per state.</summary>
public static class Models
{
    public static readonly ModelSignature FraudSignature = new(
        [new TensorSpec("features", TensorDataType.Fp32, [-1, 30])],
        [new TensorSpec("probabilities", TensorDataType.Fp32, [-1, 2]), new TensorSpec("label", TensorDataType.Int64, [-1])]);

    /// <summary>Production version 2, serving it, ready.</summary>
    public static readonly ModelStatus Fraud = new("fraud", [1, 2], 2, 2, ReplicaState.Ready, null, FraudSignature)
    {
        Canary = new CanaryTarget(1, 0.1),
        PreviousVersion = 1,
        LastSwap = new SwapRecord(1, 2, new DateTimeOffset(2026, 11, 24, 10, 0, 0, TimeSpan.Zero), true, null),
        VersionStats = [new VersionStats(2, 90, 1, 3.5, 12.0)],
    };

    /// <summary>Production version 1, still loading.</summary>
    public static readonly ModelStatus Churn = new("churn", [1], 1, null, ReplicaState.Loading, null, null);

    /// <summary>No production version, so nothing serves it and server readiness ignores it.</summary>
    public static readonly ModelStatus Draft = new("draft", [1], null, null, ReplicaState.NotServing, null, null);

    /// <summary>Production version 3 failed to load; version 2 is not served either.</summary>
    public static readonly ModelStatus Broken = new("broken", [2, 3], 3, null, ReplicaState.Failed, "sha256 mismatch for version 3", null);

    public static IReadOnlyList<ModelStatus> All => [Fraud, Churn, Draft, Broken];
}
