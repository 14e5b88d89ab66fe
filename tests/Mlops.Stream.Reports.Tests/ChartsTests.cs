using Mlops.Stream.Reports.Internal;

namespace Mlops.Stream.Reports.Tests;

/// <summary>The charts' axis and label numbers.</summary>
public sealed class ChartsTests
{
    [Theory]
    [InlineData(0.0, 1.0)]
    [InlineData(double.NaN, 1.0)]
    [InlineData(0.104, 0.2)]
    [InlineData(0.2, 0.2)]
    [InlineData(0.95, 1.0)]
    [InlineData(8.6, 10.0)]
    [InlineData(3.1, 4.0)]
    [InlineData(55.0, 60.0)]
    public void Axis_tops_are_round_so_quarters_are_round_too(double value, double top)
    {
        Assert.Equal(top, Charts.NiceCeiling(value), 12);
    }

    [Theory]
    [InlineData(0.1, "0.1")]
    [InlineData(8.2821, "8.28")]
    [InlineData(2150.4, "2150")]
    [InlineData(123456.0, "1.2e+5")]
    [InlineData(0.00012, "1.2e-4")]
    [InlineData(double.NaN, "NaN")]
    public void Labels_are_short(double value, string label)
    {
        Assert.Equal(label, Charts.Short(value));
    }
}
