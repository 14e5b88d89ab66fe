using Mlops.Stream.Inference.Registry;

namespace Mlops.Stream.Drift;

/// <summary>
/// Data quality of one feature over a window. Both shares are of all the window's values, so they
/// add up to the share of values a drift statistic could not take at face value.
/// </summary>
/// <param name="Count">Values in the window, non-finite ones included.</param>
/// <param name="NonFiniteShare">Share of NaN and infinite values (0 for an empty window).</param>
/// <param name="OutOfRangeShare">Share of finite values outside [first edge, last edge] of the reference profile.</param>
public sealed record DataQuality(long Count, double NonFiniteShare, double OutOfRangeShare)
{
    /// <summary>Measures <paramref name="current"/> against the range the reference profile saw.</summary>
    public static DataQuality Measure(FeatureProfile reference, ReadOnlySpan<double> current)
    {
        if (current.IsEmpty)
        {
            return new DataQuality(0, 0, 0);
        }

        var low = reference.Edges[0];
        var high = reference.Edges[^1];
        long nonFinite = 0;
        long outOfRange = 0;
        foreach (var v in current)
        {
            if (!double.IsFinite(v))
            {
                nonFinite++;
            }
            else if (v < low || v > high)
            {
                outOfRange++;
            }
        }

        return new DataQuality(
            current.Length, (double)nonFinite / current.Length, (double)outOfRange / current.Length);
    }
}
