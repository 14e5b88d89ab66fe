using Mlops.Stream.Inference.Gateway;
namespace Mlops.Stream.Actors.Serving;

/// <summary>
/// Whether a replica's Kafka stream keeps failing. A failure counts as "in a row" with the one
/// before when the restarted stream had not yet run for the stable period; a stream that has run
/// that long since its last restart is well again. Owned and called by the replica actor only.
/// </summary>
internal sealed class StreamHealth
{
    private DateTimeOffset _startedAt;
    private int _consecutiveFailures;
    private int _restarts;
    private (string Reason, DateTimeOffset At)? _lastFailure;

    public int ConsecutiveFailures => _consecutiveFailures;

    public void Started(DateTimeOffset now) => _startedAt = now;

    public void Ended(string reason, DateTimeOffset now, TimeSpan stableAfter)
    {
        _consecutiveFailures = now - _startedAt >= stableAfter ? 1 : _consecutiveFailures + 1;
        _restarts++;
        _lastFailure = (reason, now);
    }

    public KafkaStreamStatus Status(bool running, DateTimeOffset now, TimeSpan stableAfter) => new(
        running,
        _restarts,
        running && now - _startedAt >= stableAfter ? 0 : _consecutiveFailures,
        _lastFailure?.Reason,
        _lastFailure?.At);
}
