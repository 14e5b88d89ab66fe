using System.Diagnostics;

namespace Mlops.Stream.Bench.Scenarios.Pipeline;

/// <summary>
/// Intended start times for an open-loop load: request i is due at start + i / rate whatever the
/// answers do, and its latency is measured from that due time, so a stall shows in the percentiles
/// instead of slowing the sender (no coordinated omission). Runs on the calling thread; when the
/// sender falls behind it sends every request already due at once.
/// </summary>
public sealed class OpenLoopSchedule(double rate, TimeSpan duration)
{
    public long Total { get; } = (long)(rate * duration.TotalSeconds);

    /// <summary>Calls <paramref name="send"/>(index, due timestamp) for every request at its due time; returns the seconds the sending took.</summary>
    public double Run(Action<long, long> send)
    {
        var start = Stopwatch.GetTimestamp();
        var ticksPerRequest = Stopwatch.Frequency / rate;
        for (var i = 0L; i < Total; i++)
        {
            var due = start + (long)(i * ticksPerRequest);
            while (Stopwatch.GetTimestamp() < due)
            {
                if (due - Stopwatch.GetTimestamp() > Stopwatch.Frequency / 1000) Thread.Sleep(1);
                else Thread.SpinWait(20);
            }
            send(i, due);
        }
        return Stopwatch.GetElapsedTime(start).TotalSeconds;
    }
}
