namespace Mlops.Stream.Drift.Internal;

/// <summary>
/// The finite values of a window, sorted. Every statistic drops NaN and infinities first (they are
/// a data-quality finding, counted by <see cref="DataQuality"/>), so one bad value never turns a
/// drift score into NaN.
/// </summary>
internal static class FiniteValues
{
    public static double[] Sorted(ReadOnlySpan<double> values)
    {
        var finite = new List<double>(values.Length);
        foreach (var v in values)
        {
            if (double.IsFinite(v))
            {
                finite.Add(v);
            }
        }

        var sorted = finite.ToArray();
        Array.Sort(sorted);
        return sorted;
    }
}
