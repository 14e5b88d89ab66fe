namespace Mlops.Stream.Drift;

/// <summary>
/// The Jensen-Shannon distance in base 2 (0 for equal distributions, 1 for disjoint ones), as
/// scipy.spatial.distance.jensenshannon(p, q, base=2) computes it: the square root of the
/// divergence. For features with few distinct values, where a CDF test says little.
/// </summary>
public static class JensenShannonDistance
{
    /// <summary>
    /// The distance between two weight vectors over the same categories; each is normalised to sum
    /// to 1 first, so counts work as well as shares. NaN when either sums to zero.
    /// </summary>
    public static double BetweenShares(ReadOnlySpan<double> reference, ReadOnlySpan<double> current)
    {
        if (reference.Length != current.Length)
        {
            throw new ArgumentException(
                $"share vectors differ in length ({reference.Length} and {current.Length})", nameof(current));
        }

        var referenceTotal = Sum(reference);
        var currentTotal = Sum(current);
        if (!(referenceTotal > 0) || !(currentTotal > 0))
        {
            return double.NaN;
        }

        double divergence = 0;
        for (var i = 0; i < reference.Length; i++)
        {
            var p = reference[i] / referenceTotal;
            var q = current[i] / currentTotal;
            var m = (p + q) / 2;
            divergence += RelativeEntropy(p, m) + RelativeEntropy(q, m);
        }

        // Rounding can leave a tiny negative divergence for equal inputs; the distance is then 0.
        return Math.Sqrt(Math.Max(divergence / Math.Log(2), 0) / 2);
    }

    /// <summary>
    /// The distance between the value shares of two samples of a discrete feature, over the union
    /// of the finite values either sample holds (a value one side never saw has share 0 there).
    /// </summary>
    public static double BetweenValues(ReadOnlySpan<double> reference, ReadOnlySpan<double> current)
    {
        var categories = new SortedDictionary<double, (double Reference, double Current)>();
        foreach (var v in reference)
        {
            if (double.IsFinite(v))
            {
                var counts = categories.GetValueOrDefault(v);
                categories[v] = (counts.Reference + 1, counts.Current);
            }
        }

        foreach (var v in current)
        {
            if (double.IsFinite(v))
            {
                var counts = categories.GetValueOrDefault(v);
                categories[v] = (counts.Reference, counts.Current + 1);
            }
        }

        var referenceCounts = categories.Values.Select(c => c.Reference).ToArray();
        var currentCounts = categories.Values.Select(c => c.Current).ToArray();
        return BetweenShares(referenceCounts, currentCounts);
    }

    /// <summary>p ln(p/m) with 0 ln 0 = 0 (scipy.special.rel_entr).</summary>
    private static double RelativeEntropy(double p, double m) => p == 0 ? 0 : p * Math.Log(p / m);

    private static double Sum(ReadOnlySpan<double> values)
    {
        double sum = 0;
        foreach (var v in values)
        {
            sum += v;
        }

        return sum;
    }
}
