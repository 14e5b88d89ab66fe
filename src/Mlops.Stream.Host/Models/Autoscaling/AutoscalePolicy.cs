namespace Mlops.Stream.Host.Models.Autoscaling;

/// <summary>The thresholds of <see cref="AutoscalePolicy"/>: backlog per replica and how long it must hold.</summary>
public sealed record AutoscalePolicySettings(long ScaleUpBacklog, TimeSpan ScaleUpAfter, long ScaleDownBacklog, TimeSpan ScaleDownAfter);

/// <summary>
/// One model's scaling decisions from successive observations of its backlog per replica: up by one
/// after the backlog stayed above the up threshold for the up window, down by one after it stayed at
/// or below the down threshold for the cool-down. In between nothing happens and both windows start
/// again, so a backlog that comes and goes does not make replicas flap. After a step the window of
/// that direction starts afresh (the new replica needs time to take its share).
/// </summary>
public sealed class AutoscalePolicy(AutoscalePolicySettings settings)
{
    private DateTimeOffset? _highSince;
    private DateTimeOffset? _lowSince;

    /// <param name="backlogPerReplica">Consumer lag plus queued requests, divided by <paramref name="replicas"/>.</param>
    /// <param name="upperBound">The most replicas that can help: the model's max, and for Kafka its partitions.</param>
    /// <returns>The replica count to move to and why, or null to stay.</returns>
    public (int Replicas, string Reason)? Observe(DateTimeOffset now, long backlogPerReplica, int replicas, int min, int upperBound)
    {
        if (backlogPerReplica > settings.ScaleUpBacklog)
        {
            _lowSince = null;
            _highSince ??= now;
            if (now - _highSince < settings.ScaleUpAfter || replicas >= upperBound) return null;
            _highSince = now;
            return (replicas + 1, $"backlog {backlogPerReplica} per replica stayed above {settings.ScaleUpBacklog} for {Seconds(settings.ScaleUpAfter)}");
        }
        _highSince = null;
        if (backlogPerReplica <= settings.ScaleDownBacklog)
        {
            _lowSince ??= now;
            if (now - _lowSince < settings.ScaleDownAfter || replicas <= min) return null;
            _lowSince = now;
            return (replicas - 1, $"backlog {backlogPerReplica} per replica stayed at or below {settings.ScaleDownBacklog} for {Seconds(settings.ScaleDownAfter)}");
        }
        _lowSince = null;
        return null;
    }

    private static string Seconds(TimeSpan span) => $"{span.TotalSeconds:0.#} s";
}
