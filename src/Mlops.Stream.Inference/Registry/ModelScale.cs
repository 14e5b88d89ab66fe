namespace Mlops.Stream.Inference.Registry;

/// <summary>
/// How many replicas of a model the cluster runs, as an operator set it (<c>mlops models scale</c>).
/// Kept in the registry so every node agrees. A model without one runs one replica per node.
/// With <see cref="Min"/> and <see cref="Max"/> the autoscaler moves <see cref="Replicas"/> between
/// them (and records its last decision); without them <see cref="Replicas"/> is fixed.
/// </summary>
public sealed record ModelScale(int Replicas)
{
    /// <summary>A bound on what one model may ask for, so a typo cannot start thousands of replicas.</summary>
    public const int MaxReplicas = 64;

    public int? Min { get; init; }

    public int? Max { get; init; }

    /// <summary>The autoscaler's last change, for operators (also in the audit log).</summary>
    public ScaleDecision? LastDecision { get; init; }

    /// <summary>Derived from <see cref="Min"/> and <see cref="Max"/>, so not stored.</summary>
    [System.Text.Json.Serialization.JsonIgnore]
    public bool Autoscaled => Min is not null && Max is not null;

    /// <summary>Why this is not a valid scale, or null when it is.</summary>
    public string? Problem()
    {
        if (Replicas is < 1 or > MaxReplicas) return $"replicas must be from 1 to {MaxReplicas}, was {Replicas}";
        if (Min is null != Max is null) return "min and max go together";
        if (Min is { } min && Max is { } max)
        {
            if (min < 1 || max > MaxReplicas || min > max) return $"min and max must satisfy 1 <= min <= max <= {MaxReplicas}, were {min} and {max}";
            if (Replicas < min || Replicas > max) return $"replicas ({Replicas}) must lie between min ({min}) and max ({max})";
        }
        return null;
    }

    /// <summary>The same scale setting (mode and counts), ignoring the decision history.</summary>
    public bool SameSetting(ModelScale? other) =>
        other is not null && other.Replicas == Replicas && other.Min == Min && other.Max == Max;
}

/// <summary>One autoscaling step: from <paramref name="From"/> to <paramref name="To"/> replicas at <paramref name="At"/>, and why.</summary>
public sealed record ScaleDecision(DateTimeOffset At, int From, int To, string Reason);
