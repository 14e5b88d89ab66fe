using Mlops.Stream.Actors.Drift;

namespace Mlops.Stream.Actors.Tests.Drift;

public sealed class WindowOffsetsTests
{
    [Fact]
    public void A_closed_window_releases_its_first_offsets_in_the_order_they_were_held_and_keeps_the_rest()
    {
        var offsets = new WindowOffsets<long>();
        foreach (var (version, offset) in new[] { (1, 10L), (2, 11L), (1, 12L), (1, 13L), (2, 14L) })
            offsets.Hold(version, offset);

        Assert.Equal([10L, 12L], offsets.Release(1, 2));
        Assert.Equal((1, 2), (offsets.Held(1), offsets.Held(2)));
        Assert.Equal([13L], offsets.Release(1, 1));
        Assert.Equal(0, offsets.Held(1));
    }

    [Fact]
    public void Releasing_more_than_is_held_is_a_bug_and_says_so()
    {
        var offsets = new WindowOffsets<long>();
        offsets.Hold(3, 1);

        var error = Assert.Throws<InvalidOperationException>(() => offsets.Release(3, 2));
        Assert.Contains("version 3 closed with 2 events, but 1 offsets are held", error.Message);
        Assert.Empty(offsets.Release(7, 0));
    }
}
