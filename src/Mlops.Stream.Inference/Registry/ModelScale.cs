namespace Mlops.Stream.Inference.Registry;

/// <summary>
/// How many replicas of a model the cluster runs, as an operator set it (<c>mlops models scale</c>).
/// Kept in the registry so every node agrees. A model without one runs one replica per node.
/// </summary>
public sealed record ModelScale(int Replicas)
{
    /// <summary>A bound on what one model may ask for, so a typo cannot start thousands of replicas.</summary>
    public const int MaxReplicas = 64;

    /// <summary>Why <paramref name="replicas"/> cannot be a replica count, or null when it can.</summary>
    public static string? Problem(int replicas) =>
        replicas is < 1 or > MaxReplicas ? $"replicas must be from 1 to {MaxReplicas}, was {replicas}" : null;
}
