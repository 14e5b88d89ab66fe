namespace Mlops.Stream.Actors.Tests.Support;

/// <summary>
/// A clock that moves only when a test calls <see cref="Advance"/>; timers fire inside Advance,
/// on the test's thread. Lets tests drive time-based behaviour (queue delays) without sleeping
/// or asserting on wall time.
/// </summary>
public sealed class ManualTimeProvider : TimeProvider
{
    private static readonly DateTimeOffset Epoch = new(2025, 1, 1, 0, 0, 0, TimeSpan.Zero);
    private readonly object _gate = new();
    private readonly List<ManualTimer> _timers = [];
    private TaskCompletionSource _armed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private long _now;

    public override long TimestampFrequency => TimeSpan.TicksPerSecond;

    public override long GetTimestamp()
    {
        lock (_gate)
        {
            return _now;
        }
    }

    public override DateTimeOffset GetUtcNow() => Epoch + TimeSpan.FromTicks(GetTimestamp());

    public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period)
    {
        var timer = new ManualTimer(this, callback, state);
        lock (_gate)
        {
            _timers.Add(timer);
        }

        timer.Change(dueTime, period);
        return timer;
    }

    /// <summary>Completes once some timer has a due time (e.g. a batcher is waiting for its delay).</summary>
    public Task WhenTimerArmedAsync()
    {
        lock (_gate)
        {
            if (_timers.Any(t => t.DueAt is not null))
            {
                return Task.CompletedTask;
            }

            if (_armed.Task.IsCompleted)
            {
                _armed = new(TaskCreationOptions.RunContinuationsAsynchronously);
            }

            return _armed.Task;
        }
    }

    /// <summary>Moves the clock forward and fires, in due order, the timers that have come due.</summary>
    public void Advance(TimeSpan delta)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(delta, TimeSpan.Zero);
        List<ManualTimer> due;
        lock (_gate)
        {
            _now += delta.Ticks;
            due = [.. _timers.Where(t => t.DueAt <= _now).OrderBy(t => t.DueAt)];
            foreach (var timer in due)
            {
                timer.DueAt = timer.Period == Timeout.InfiniteTimeSpan || timer.Period <= TimeSpan.Zero
                    ? null
                    : _now + timer.Period.Ticks;
            }
        }

        foreach (var timer in due)
        {
            timer.Fire();
        }
    }

    private sealed class ManualTimer(ManualTimeProvider owner, TimerCallback callback, object? state) : ITimer
    {
        public long? DueAt { get; set; }

        public TimeSpan Period { get; private set; } = Timeout.InfiniteTimeSpan;

        public bool Change(TimeSpan dueTime, TimeSpan period)
        {
            lock (owner._gate)
            {
                if (!owner._timers.Contains(this))
                {
                    return false;
                }

                Period = period;
                DueAt = dueTime == Timeout.InfiniteTimeSpan ? null : owner._now + Math.Max(0, dueTime.Ticks);
                if (DueAt is not null)
                {
                    owner._armed.TrySetResult();
                }

                return true;
            }
        }

        public void Fire() => callback(state);

        public void Dispose()
        {
            lock (owner._gate)
            {
                owner._timers.Remove(this);
            }
        }

        public ValueTask DisposeAsync()
        {
            Dispose();
            return ValueTask.CompletedTask;
        }
    }
}
