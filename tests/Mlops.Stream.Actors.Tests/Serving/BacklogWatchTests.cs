using Mlops.Stream.Actors.Serving;

namespace Mlops.Stream.Actors.Tests.Serving;

/// <summary>When an unloaded model's request backlog makes its replica load it: records waiting with no offset moving.</summary>
public sealed class BacklogWatchTests
{
    private static PartitionBacklog[] Reading(params (long? Committed, long Waiting)[] partitions) =>
        [.. partitions.Select((p, i) => new PartitionBacklog(i, p.Committed, p.Waiting))];

    [Fact]
    public void Records_waiting_behind_an_offset_that_did_not_move_since_the_last_read_are_stalled()
    {
        var watch = new BacklogWatch();
        Assert.Equal(0, watch.Stalled(Reading((10, 0), (null, 0))));          // first read: where the offsets stand
        Assert.Equal(7, watch.Stalled(Reading((10, 4), (null, 3))));          // records arrived, nobody moved the offsets
    }

    [Fact]
    public void Records_a_consumer_elsewhere_works_through_are_not_stalled()
    {
        var watch = new BacklogWatch();
        watch.Stalled(Reading((10, 50)));
        Assert.Equal(0, watch.Stalled(Reading((30, 40))));                    // the offset moved: someone consumes
        Assert.Equal(40, watch.Stalled(Reading((30, 40))));                   // and then stopped
    }

    [Fact]
    public void The_first_read_after_a_reset_decides_nothing()
    {
        var watch = new BacklogWatch();
        watch.Stalled(Reading((10, 5)));
        watch.Reset();
        Assert.Equal(0, watch.Stalled(Reading((10, 5))));
        Assert.Equal(5, watch.Stalled(Reading((10, 5))));
    }

    [Fact]
    public void After_refused_loads_reads_are_skipped_for_twice_as_many_checks_each_time_until_a_load_succeeds()
    {
        var watch = new BacklogWatch();
        Assert.True(watch.ShouldRead());
        watch.Refused();
        Assert.Equal([false, true], Checks(watch, 2));
        watch.Refused();
        Assert.Equal([false, false, true], Checks(watch, 3));
        for (var i = 0; i < 10; i++) watch.Refused();
        Assert.Equal(64, Checks(watch, 65).Count(read => !read));
        watch.Refused();
        watch.Loaded();
        Assert.True(watch.ShouldRead());
    }

    private static bool[] Checks(BacklogWatch watch, int count) => [.. Enumerable.Range(0, count).Select(_ => watch.ShouldRead())];
}
