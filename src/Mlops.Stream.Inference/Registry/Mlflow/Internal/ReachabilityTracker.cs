namespace Mlops.Stream.Inference.Registry.Mlflow.Internal;

/// <summary>
/// Records the outcome of every call to MLflow, for <see cref="RegistryReachability"/>. Thread-safe:
/// calls run on any thread (the poller, replica loads, admin requests); one lock guards the few fields.
/// </summary>
internal sealed class ReachabilityTracker(string endpoint, TimeProvider clock)
{
    private readonly object _gate = new();
    private bool _reachable = true;
    private bool _hasState;
    private DateTimeOffset? _lastSuccess;
    private DateTimeOffset? _unreachableSince;
    private long _errors;
    private string? _lastError;

    public RegistryReachability Current
    {
        get
        {
            lock (_gate) return new("mlflow", endpoint, _reachable, _hasState, _lastSuccess, _unreachableSince, _errors, _lastError);
        }
    }

    public void Answered()
    {
        lock (_gate)
        {
            _reachable = true;
            _unreachableSince = null;
            _lastSuccess = clock.GetUtcNow();
        }
    }

    public void Failed(string reason)
    {
        lock (_gate)
        {
            if (_reachable) _unreachableSince = clock.GetUtcNow();
            _reachable = false;
            _errors++;
            _lastError = reason;
        }
    }

    public void StateRead()
    {
        lock (_gate) _hasState = true;
    }
}
