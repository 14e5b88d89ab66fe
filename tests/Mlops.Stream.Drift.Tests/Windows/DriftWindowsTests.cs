using Mlops.Stream.Drift.Windows;
using static Mlops.Stream.Drift.Tests.Windows.ServedEvents;

namespace Mlops.Stream.Drift.Tests.Windows;

/// <summary>
/// Windows per model version, closed by count, by rows, by served time and by tick, with their
/// offsets, their verdicts, bad events left out and memory bounded. Time is given explicitly.
/// </summary>
public sealed class DriftWindowsTests
{
    private static readonly double[] Row = [50, 12];

    private static DriftWindows Windows(int maxEvents = 1000, int minutes = 5, int maxRows = 100_000) =>
        new(Model, Versions, new WindowOptions { MaxEvents = maxEvents, MaxSpan = TimeSpan.FromMinutes(minutes), MaxRows = maxRows });

    [Fact]
    public void A_window_closes_when_it_reaches_its_count()
    {
        var windows = Windows(maxEvents: 10);
        var closed = new List<DriftWindowReport>();
        for (var i = 0; i < 25; i++)
        {
            var step = windows.Add(Event(Row, T0.AddSeconds(i)), 0, i);
            Assert.Null(step.Failure);
            closed.AddRange(step.Closed);
            Assert.Equal(i is 9 or 19 ? 1 : 0, step.Closed.Length);
        }

        Assert.Equal([(10, WindowClose.Count), (10, WindowClose.Count)], closed.Select(w => (w.Events, w.ClosedBy)));
        Assert.Equal([T0, T0.AddSeconds(10)], closed.Select(w => w.Start));
        Assert.Equal([T0.AddSeconds(9), T0.AddSeconds(19)], closed.Select(w => w.End));
        Assert.Equal(5, windows.HeldEvents(1));
    }

    [Fact]
    public void A_later_event_closes_a_window_whose_time_is_up_and_starts_the_next()
    {
        var windows = Windows(minutes: 1);
        Assert.Empty(windows.Add(Event(Row, T0), 0, 0).Closed);
        Assert.Empty(windows.Add(Event(Row, T0.AddSeconds(59)), 0, 1).Closed);

        var step = windows.Add(Event(Row, T0.AddSeconds(60)), 0, 2);

        var window = Assert.Single(step.Closed);
        Assert.Equal((WindowClose.Time, 2, T0, T0.AddSeconds(59)), (window.ClosedBy, window.Events, window.Start, window.End));
        Assert.Equal([new PartitionOffsets(0, 0, 1)], window.Offsets.ToArray());
        Assert.Equal(1, windows.HeldEvents(1));
    }

    [Fact]
    public void A_tick_closes_a_quiet_window_once_its_span_has_passed()
    {
        var windows = Windows(minutes: 5);
        windows.Add(Event(Row, T0), 0, 0);
        windows.Add(Event(Row, T0.AddSeconds(10)), 0, 1);

        Assert.Empty(windows.Tick(T0.AddMinutes(5).AddTicks(-1)));
        var window = Assert.Single(windows.Tick(T0.AddMinutes(5)));

        Assert.Equal((WindowClose.Time, 2, T0, T0.AddSeconds(10)), (window.ClosedBy, window.Events, window.Start, window.End));
        Assert.Empty(windows.Tick(T0.AddHours(1)));
        Assert.Equal(0, windows.HeldEvents(1));
    }

    [Fact]
    public void Each_version_has_its_own_window()
    {
        var windows = Windows(maxEvents: 3);
        var closed = new List<DriftWindowReport>();
        long offset = 0;
        foreach (var version in new[] { 1, 2, 1, 2, 2, 1, 1 })
        {
            closed.AddRange(windows.Add(Event(Row, T0.AddSeconds(offset), version), 0, offset++).Closed);
        }

        // Version 2 fills at offset 4, version 1 at offset 5; each window holds only its own events.
        Assert.Equal([(2, 3, 1L, 4L), (1, 3, 0L, 5L)], closed.Select(w => (w.Version, w.Events, w.Offsets.Single().First, w.Offsets.Single().Last)));
        Assert.Equal((1, 0), (windows.HeldEvents(1), windows.HeldEvents(2)));
    }

    [Fact]
    public void A_window_names_the_first_and_last_offset_it_used_in_each_partition()
    {
        var windows = Windows(maxEvents: 10);
        DriftWindowReport? window = null;
        for (var i = 0; i < 10; i++)
        {
            var (partition, offset) = i % 2 == 0 ? (2, 100L + i) : (0, 5L + i);
            window = windows.Add(Event(Row, T0.AddSeconds(i)), partition, offset).Closed.SingleOrDefault() ?? window;
        }

        Assert.NotNull(window);
        Assert.Equal([new PartitionOffsets(0, 6, 14), new PartitionOffsets(2, 100, 108)], window.Offsets.ToArray());

        // The next window starts afresh.
        windows.Add(Event(Row, T0.AddSeconds(20)), 0, 15);
        var next = Assert.Single(windows.Tick(T0.AddHours(1)));
        Assert.Equal([new PartitionOffsets(0, 15, 15)], next.Offsets.ToArray());
    }

    [Fact]
    public void Reference_like_traffic_does_not_drift_and_traffic_shifted_by_two_standard_deviations_does()
    {
        var reference = Reference();
        var random = new Random(2025);

        var alike = FillWindow(reference, random, sigmas: 0, firstOffset: 0);
        var shifted = FillWindow(reference, random, sigmas: 2, firstOffset: 1000);

        Assert.Equal((DriftVerdict.Stable, 0), (alike.Dataset.Verdict, alike.Dataset.DriftedCount));
        Assert.All(alike.Features, f => Assert.True(f.Score < 0.05, $"{f.Feature}: PSI {f.Score} on reference-like traffic"));
        Assert.Equal((DriftVerdict.Drifted, 2), (shifted.Dataset.Verdict, shifted.Dataset.DriftedCount));
        Assert.All(shifted.Features, f => Assert.True(f.Score > 1, $"{f.Feature}: PSI {f.Score} after a 2-sigma shift"));
        Assert.Equal(["amount", "hour"], shifted.Features.Select(f => f.Feature));
        Assert.All(shifted.Features, f => Assert.Equal(DriftMethod.PopulationStabilityIndex, f.Method));
    }

    [Fact]
    public void Events_of_several_rows_fill_a_window_row_by_row()
    {
        var windows = Windows(maxEvents: 250);
        var reference = Reference();
        var random = new Random(7);
        DriftWindowReport? window = null;
        for (var i = 0; i < 250; i++)
        {
            double[][] rows = [.. Enumerable.Range(0, 4).Select(_ => Draw(reference, random, sigmas: 2))];
            window = windows.Add(Event(rows, T0.AddMilliseconds(i)), 0, i).Closed.SingleOrDefault() ?? window;
        }

        Assert.NotNull(window);
        Assert.Equal((250, 1000), (window.Events, window.Rows));
        Assert.All(window.Features, f => Assert.Equal(1000, f.Quality.Count));
        Assert.True(window.Dataset.Drifted);
    }

    [Fact]
    public void Bad_events_are_reported_with_their_reason_and_leave_the_window_alone()
    {
        var windows = Windows(maxEvents: 5, minutes: 1);
        for (var i = 0; i < 4; i++)
        {
            Assert.Null(windows.Add(Event(Row, T0.AddSeconds(i)), 0, i).Failure);
        }

        // Each bad event carries a served time an hour later: had it counted, it would have closed the window by time.
        var late = T0.AddHours(1);
        (byte[] Body, string Code)[] bad =
        [
            (Utf8("not json"), "unreadable"),
            (Utf8("[1, 2]"), "unreadable"),
            (Write("r", Model, "1", null, w => Tensor(w, "features", "FP32", [1, 2], Row)), "missing_field"),
            (Write(null, Model, "1", late, w => Tensor(w, "features", "FP32", [1, 2], Row)), "missing_field"),
            (Write("r", Model, "one", late, w => Tensor(w, "features", "FP32", [1, 2], Row)), "bad_version"),
            (Write("r", "other-model", "1", late, w => Tensor(w, "features", "FP32", [1, 2], Row)), "wrong_model"),
            (Write("r", Model, "7", late, w => Tensor(w, "features", "FP32", [1, 2], Row)), "unknown_version"),
            (Write("r", Model, "1", late, null), "no_inputs"),
            (Write("r", Model, "1", late, _ => { }), "no_inputs"),
            (Write("r", Model, "1", late, w => Tensor(w, "features", "FP32", [0, 2], [])), "no_inputs"),
            (Write("r", Model, "1", late, w => Tensor(w, "features", "FP32", [1, 3], [1, 2, 3])), "shape_mismatch"),
            (Write("r", Model, "1", late, w => Tensor(w, "features", "FP32", [2, 2], Row)), "shape_mismatch"),
            (Write("r", Model, "1", late, w => Tensor(w, "features", "FP32", [2], Row)), "shape_mismatch"),
            (Write("r", Model, "1", late, w => Tensor(w, "features", "BYTES", [1, 2], Row)), "unsupported_datatype"),
            (Utf8("""{"id":"r","model":"fraud-demo","version":"1","served_timestamp":"2025-03-01T13:00:00Z","inputs":[{"name":"features","datatype":"FP32","shape":[1,2],"data":["a",1]}]}"""), "unreadable"),
        ];

        for (var i = 0; i < bad.Length; i++)
        {
            var step = windows.Add(bad[i].Body, 3, 1000 + i);
            Assert.Empty(step.Closed);
            Assert.NotNull(step.Failure);
            Assert.Equal((bad[i].Code, 3, 1000L + i), (step.Failure.Code, step.Failure.Partition, step.Failure.Offset));
            Assert.Equal(4, windows.HeldEvents(1));
        }

        var window = Assert.Single(windows.Add(Event(Row, T0.AddSeconds(4)), 0, 4).Closed);
        Assert.Equal((WindowClose.Count, 5, T0.AddSeconds(4)), (window.ClosedBy, window.Events, window.End));
        Assert.Equal([new PartitionOffsets(0, 0, 4)], window.Offsets.ToArray());
    }

    [Fact]
    public void A_version_without_a_reference_profile_is_reported_as_no_reference()
    {
        var windows = new DriftWindows(Model, v => new VersionReference(v, [], []));

        var step = windows.Add(Event(Row, T0), 0, 0);

        Assert.Equal("no_reference", step.Failure?.Code);
    }

    [Fact]
    public void A_window_never_holds_more_than_its_count_nor_its_rows()
    {
        var windows = Windows(maxEvents: 50, maxRows: 120);
        var random = new Random(3);
        var closedRows = new List<int>();
        for (var i = 0; i < 1000; i++)
        {
            // One to four rows per event, so both limits are met in turn.
            double[][] rows = [.. Enumerable.Range(0, 1 + (i % 4)).Select(_ => Row)];
            var step = windows.Add(Event(rows, T0.AddMilliseconds(i)), 0, i);
            Assert.Null(step.Failure);
            closedRows.AddRange(step.Closed.Select(w => w.Rows));
            Assert.InRange(windows.HeldEvents(1), 0, 49);
            Assert.InRange(windows.HeldCapacity(1), 0, 120);
        }

        Assert.NotEmpty(closedRows);
        Assert.All(closedRows, rows => Assert.InRange(rows, 1, 120));

        var tooBig = windows.Add(Event([.. Enumerable.Range(0, 121).Select(_ => Row)], T0.AddSeconds(2)), 0, 1000);
        Assert.Equal("too_many_rows", tooBig.Failure?.Code);
    }

    private static DriftWindowReport FillWindow(VersionReference reference, Random random, double sigmas, long firstOffset)
    {
        var windows = Windows();
        for (var i = 0; i < 1000; i++)
        {
            var step = windows.Add(Event(Draw(reference, random, sigmas), T0.AddMilliseconds(i)), 0, firstOffset + i);
            if (step.Closed.SingleOrDefault() is { } window)
            {
                Assert.Equal(999, i);
                return window;
            }
        }

        throw new Xunit.Sdk.XunitException("1,000 events did not close a window");
    }
}
