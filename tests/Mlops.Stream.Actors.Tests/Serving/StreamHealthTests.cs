using Mlops.Stream.Actors.Serving;
using Mlops.Stream.Inference.Gateway;

namespace Mlops.Stream.Actors.Tests.Serving;

/// <summary>When a replica's Kafka stream counts as failing again and again, and when it is well again.</summary>
public sealed class StreamHealthTests
{
    private static readonly DateTimeOffset T0 = new(2026, 11, 28, 12, 0, 0, TimeSpan.Zero);
    private static readonly TimeSpan StableAfter = TimeSpan.FromMinutes(1);

    [Fact]
    public void A_stream_that_fails_again_soon_after_its_restart_keeps_failing_until_it_has_run_the_stable_period()
    {
        var health = new StreamHealth();
        health.Started(T0);
        health.Ended("boom at mlops.requests.m.v1 [0] @ 7", T0.AddMinutes(5), StableAfter);
        Assert.False(health.Status(running: false, T0.AddMinutes(5), StableAfter).FailingRepeatedly);   // once is not a pattern

        health.Started(T0.AddMinutes(5).AddSeconds(2));
        health.Ended("boom at mlops.requests.m.v1 [0] @ 7", T0.AddMinutes(5).AddSeconds(50), StableAfter);
        var failing = health.Status(running: false, T0.AddMinutes(5).AddSeconds(50), StableAfter);
        Assert.True(failing.FailingRepeatedly);
        Assert.Equal(2, failing.Restarts);
        Assert.Contains("@ 7", failing.LastFailure);

        health.Started(T0.AddMinutes(6));
        Assert.True(health.Status(running: true, T0.AddMinutes(6).AddSeconds(30), StableAfter).FailingRepeatedly);
        var well = health.Status(running: true, T0.AddMinutes(7), StableAfter);
        Assert.False(well.FailingRepeatedly);
        Assert.Equal(2, well.Restarts);   // the history stays visible
    }

    [Fact]
    public void A_failure_after_a_long_healthy_run_starts_the_count_again()
    {
        var health = new StreamHealth();
        health.Started(T0);
        health.Ended("first", T0.AddSeconds(10), StableAfter);
        health.Started(T0.AddSeconds(12));
        health.Ended("second, an hour later", T0.AddHours(1), StableAfter);
        Assert.Equal(1, health.Status(running: false, T0.AddHours(1), StableAfter).ConsecutiveFailures);
    }
}
