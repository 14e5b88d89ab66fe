using Mlops.Stream.Drift.Feedback;

namespace Mlops.Stream.Drift.Tests.Feedback;

/// <summary>The join of labels to served events: either order, bounded on both sides, misses counted with their context.</summary>
public sealed class FeedbackJoinTests
{
    private static readonly DateTimeOffset T0 = new(2025, 3, 1, 12, 0, 0, TimeSpan.Zero);

    private static ServedPrediction Served(string id) => new(id, 1, 0, 2, ["legit", "fraud"], [1], [0.8]);

    private static FeedbackLabel Label(string id, long offset = 0) => new(id, [new LabelValue(1, null)], 0, offset);

    private static FeedbackJoin<long> Join(int maxServed = 100, int maxWaiting = 100, int waitSeconds = 60) =>
        new(new FeedbackJoinOptions { MaxServed = maxServed, MaxWaitingLabels = maxWaiting, LabelWait = TimeSpan.FromSeconds(waitSeconds) });

    [Fact]
    public void A_label_after_its_event_matches_once()
    {
        var join = Join();
        Assert.Same(JoinStep<long>.Nothing, join.AddServed(Served("a")));

        var match = Assert.Single(join.AddLabel(Label("a", 5), 5, T0).Matched);
        Assert.Equal(("a", 5L), (match.Served.Id, match.Context));
        Assert.Equal(0, join.ServedCount);

        // The same id again: its event was matched already, so the label waits (and is missed later).
        Assert.Empty(join.AddLabel(Label("a", 6), 6, T0).Matched);
        Assert.Equal(1, join.WaitingCount);
    }

    [Fact]
    public void A_label_before_its_event_waits_for_it()
    {
        var join = Join();
        Assert.Same(JoinStep<long>.Nothing, join.AddLabel(Label("a", 9), 9, T0));

        var match = Assert.Single(join.AddServed(Served("a")).Matched);
        Assert.Equal(9L, match.Context);
        Assert.Equal((0, 0), (join.ServedCount, join.WaitingCount));
    }

    [Fact]
    public void The_oldest_served_event_is_evicted_beyond_the_bound_and_its_late_label_is_missed()
    {
        var join = Join(maxServed: 2);
        join.AddServed(Served("a"));
        join.AddServed(Served("b"));

        Assert.Equal(1, join.AddServed(Served("c")).ServedEvicted);
        Assert.Equal(2, join.ServedCount);
        Assert.Single(join.AddLabel(Label("c"), 0, T0).Matched);

        // "a" was evicted: its label waits, then is given up as unknown_id.
        Assert.Empty(join.AddLabel(Label("a", 1), 1, T0).Matched);
        var miss = Assert.Single(join.Expire(T0.AddSeconds(60)).Missed);
        Assert.Equal((FeedbackFailureReason.UnknownId, 1L), (miss.Failure.Reason, miss.Context));
        Assert.Equal(0, join.WaitingCount);
    }

    [Fact]
    public void Waiting_labels_are_bounded_and_expire_in_order()
    {
        var join = Join(maxWaiting: 2, waitSeconds: 60);
        join.AddLabel(Label("x"), 0, T0);
        join.AddLabel(Label("y"), 1, T0.AddSeconds(10));

        var full = join.AddLabel(Label("z"), 2, T0.AddSeconds(20));
        Assert.Equal([(FeedbackFailureReason.UnknownId, 0L)], full.Missed.Select(m => (m.Failure.Reason, m.Context)));

        Assert.Empty(join.Expire(T0.AddSeconds(69)).Missed);
        Assert.Equal([1L], join.Expire(T0.AddSeconds(70)).Missed.Select(m => m.Context));
        Assert.Equal([2L], join.Expire(T0.AddSeconds(80)).Missed.Select(m => m.Context));
        Assert.Equal(0, join.WaitingCount);
    }

    [Fact]
    public void A_second_label_for_a_waiting_id_supersedes_the_first()
    {
        var join = Join();
        join.AddLabel(Label("a"), 0, T0);

        var step = join.AddLabel(Label("a", 1), 1, T0);

        Assert.Equal([(FeedbackFailureReason.Superseded, 0L)], step.Missed.Select(m => (m.Failure.Reason, m.Context)));
        Assert.Equal(1L, Assert.Single(join.AddServed(Served("a")).Matched).Context);
    }

    [Fact]
    public void Bounds_must_be_positive()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new FeedbackJoinOptions { MaxServed = 0 });
        Assert.Throws<ArgumentOutOfRangeException>(() => new FeedbackJoinOptions { MaxWaitingLabels = 0 });
        Assert.Throws<ArgumentOutOfRangeException>(() => new FeedbackJoinOptions { LabelWait = TimeSpan.Zero });
    }
}
