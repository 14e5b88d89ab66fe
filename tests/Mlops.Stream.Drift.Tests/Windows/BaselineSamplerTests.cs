using System.Text;
using Mlops.Stream.Drift.Windows;
using Mlops.Stream.Inference.Registry;
using static Mlops.Stream.Drift.Tests.Windows.ServedEvents;

namespace Mlops.Stream.Drift.Tests.Windows;

/// <summary>
/// A baseline's sample of served traffic (<c>mlops drift baseline</c>): every row while the
/// reservoir has room, a bounded uniform sample past it, columns in the version's order, and events
/// that cannot give rows counted by kind and left out.
/// </summary>
public sealed class BaselineSamplerTests
{
    [Fact]
    public void Under_its_capacity_the_sample_holds_every_row_in_the_versions_column_order()
    {
        var sampler = new BaselineSampler(Model, ["amount", "hour"], capacity: 100);
        sampler.Add(Event([[50, 12], [60, 13]], T0), 0, 0);
        sampler.Add(Event([70, 14], T0), 0, 1);

        var sample = sampler.ToSample()!;

        Assert.Equal(["amount", "hour"], sample.Features.ToArray());
        Assert.Equal([50, 60, 70], sample.Columns[0]);
        Assert.Equal([12, 13, 14], sample.Columns[1]);
        Assert.Equal((2L, 3L, 3), (sampler.Events, sampler.RowsSeen, sampler.Rows));
    }

    [Fact]
    public void Past_its_capacity_the_reservoir_stays_bounded_and_samples_the_whole_window_uniformly()
    {
        // 20,000 rows whose first feature is their position: a uniform sample of 1,000 has a mean near 10,000
        // (standard error 20,000/sqrt(12*1000) ≈ 183), where a sample of the window's start would be near 500.
        const int rows = 20_000;
        var sampler = new BaselineSampler(Model, ["amount", "hour"], capacity: 1000, seed: 3);
        for (var i = 0; i < rows; i++) sampler.Add(Event([i, 12.0], T0), 0, i);

        var sample = sampler.ToSample()!;

        Assert.Equal((rows, 1000), (sampler.RowsSeen, sample.Rows));
        Assert.InRange(sample.Columns[0].Average(), 10_000 - (4 * 183), 10_000 + (4 * 183));
        Assert.Equal(1000, sample.Columns[0].Distinct().Count());
    }

    [Fact]
    public void Events_that_give_no_rows_are_counted_by_kind_and_left_out()
    {
        var sampler = new BaselineSampler(Model, ["amount", "hour"], capacity: 10);
        sampler.Add(Encoding.UTF8.GetBytes("not json"), 0, 0);
        sampler.Add(Event([[50, 12.0]], T0, model: "other-model"), 0, 1);
        sampler.Add(Event([[1.0, 2.0, 3.0]], T0), 0, 2);                 // three columns, the version has two
        sampler.Add(Event([[double.NaN, 12.0], [55, 11]], T0), 0, 3);  // one row with NaN: only that row is left out

        Assert.Equal(new Dictionary<string, int> { ["unreadable"] = 1, ["wrong_model"] = 1, ["shape_mismatch"] = 1, ["non_finite_row"] = 1 },
            sampler.Skipped.OrderBy(s => s.Key).ToDictionary());
        Assert.Equal([55], sampler.ToSample()!.Columns[0]);
    }

    [Fact]
    public void A_window_without_usable_rows_gives_no_sample()
    {
        var sampler = new BaselineSampler(Model, ["amount", "hour"], capacity: 10);
        sampler.Add(Encoding.UTF8.GetBytes("{}"), 0, 0);

        Assert.Null(sampler.ToSample());
    }

    [Fact]
    public void The_capacity_is_that_of_a_reference_sample()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new BaselineSampler(Model, ["amount"], ReferenceSample.MaxRows + 1));
        Assert.Throws<ArgumentOutOfRangeException>(() => new BaselineSampler(Model, ["amount"], 0));
    }
}
