using Mlops.Stream.Host.Options;

namespace Mlops.Stream.Host.Tests;

/// <summary>Sizes as operators write them in <c>Inference:ModelMemoryBudget</c>.</summary>
public sealed class ByteSizeTests
{
    [Theory]
    [InlineData("2GiB", 2L << 30)]
    [InlineData("512 MiB", 512L << 20)]
    [InlineData("800Mi", 800L << 20)]
    [InlineData("1.5GB", 1_500_000_000L)]
    [InlineData("64kib", 64L << 10)]
    [InlineData("1048576", 1L << 20)]
    [InlineData("100B", 100L)]
    public void Sizes_with_binary_or_decimal_units_or_none_are_read(string text, long bytes) => Assert.Equal(bytes, ByteSize.Parse(text));

    [Theory]
    [InlineData("")]
    [InlineData("lots")]
    [InlineData("-1GiB")]
    [InlineData("0")]
    [InlineData("2 PiB")]
    [InlineData("1e3MB")]
    public void Anything_else_is_refused_with_examples_of_what_is_meant(string text)
    {
        Assert.False(ByteSize.TryParse(text, out _));
        Assert.Contains("2GiB", ByteSize.Problem(text));
    }
}
