using Mlops.Stream.Host.Models.Autoscaling;

namespace Mlops.Stream.Host.Tests;

/// <summary>Issue 10, autoscaling: when one model's backlog per replica adds or removes a replica.</summary>
public sealed class AutoscalePolicyTests
{
    private static readonly DateTimeOffset T0 = new(2026, 12, 2, 12, 0, 0, TimeSpan.Zero);
    private static readonly AutoscalePolicySettings Settings = new(1000, TimeSpan.FromSeconds(30), 100, TimeSpan.FromMinutes(5));

    [Fact]
    public void A_backlog_above_the_threshold_adds_one_replica_only_after_it_held_for_the_window()
    {
        var policy = new AutoscalePolicy(Settings);

        Assert.Null(policy.Observe(T0, 5000, replicas: 1, min: 1, upperBound: 3));
        Assert.Null(policy.Observe(T0.AddSeconds(29), 5000, 1, 1, 3));
        var step = policy.Observe(T0.AddSeconds(30), 5000, 1, 1, 3);

        Assert.Equal(2, step?.Replicas);
        Assert.Contains("backlog 5000 per replica stayed above 1000 for 30 s", step?.Reason);
        // The window starts again after a step: the new replica gets time to take its share.
        Assert.Null(policy.Observe(T0.AddSeconds(31), 5000, 2, 1, 3));
        Assert.Equal(3, policy.Observe(T0.AddSeconds(60), 5000, 2, 1, 3)?.Replicas);
    }

    [Fact]
    public void A_backlog_that_dips_below_the_threshold_starts_the_window_again()
    {
        var policy = new AutoscalePolicy(Settings);

        Assert.Null(policy.Observe(T0, 5000, 1, 1, 3));
        Assert.Null(policy.Observe(T0.AddSeconds(20), 500, 1, 1, 3));
        Assert.Null(policy.Observe(T0.AddSeconds(25), 5000, 1, 1, 3));
        Assert.Null(policy.Observe(T0.AddSeconds(50), 5000, 1, 1, 3));
        Assert.Equal(2, policy.Observe(T0.AddSeconds(55), 5000, 1, 1, 3)?.Replicas);
    }

    [Fact]
    public void Never_above_the_upper_bound_nor_below_min()
    {
        var policy = new AutoscalePolicy(Settings);
        Assert.Null(policy.Observe(T0, 5000, 3, 1, upperBound: 3));
        Assert.Null(policy.Observe(T0.AddMinutes(10), 5000, 3, 1, 3));

        var idle = new AutoscalePolicy(Settings);
        Assert.Null(idle.Observe(T0, 0, 2, min: 2, upperBound: 3));
        Assert.Null(idle.Observe(T0.AddMinutes(10), 0, 2, 2, 3));
    }

    [Fact]
    public void A_small_backlog_removes_one_replica_after_the_cool_down_and_a_middling_one_changes_nothing()
    {
        var policy = new AutoscalePolicy(Settings);

        Assert.Null(policy.Observe(T0, 50, 3, 1, 3));
        Assert.Null(policy.Observe(T0.AddMinutes(4), 50, 3, 1, 3));
        var step = policy.Observe(T0.AddMinutes(5), 50, 3, 1, 3);
        Assert.Equal(2, step?.Replicas);
        Assert.Contains("at or below 100 for 300 s", step?.Reason);

        // Between the thresholds: no step either way, and the cool-down starts again afterwards.
        Assert.Null(policy.Observe(T0.AddMinutes(6), 500, 2, 1, 3));
        Assert.Null(policy.Observe(T0.AddMinutes(20), 500, 2, 1, 3));
        Assert.Null(policy.Observe(T0.AddMinutes(21), 50, 2, 1, 3));
        Assert.Null(policy.Observe(T0.AddMinutes(25), 50, 2, 1, 3));
        Assert.Equal(1, policy.Observe(T0.AddMinutes(26), 50, 2, 1, 3)?.Replicas);
    }
}
