using System.Collections.Immutable;

namespace Mlops.Stream.Inference.Registry;

/// <summary>
/// A histogram of one feature over the reference data: the baseline drift statistics (PSI, KS)
/// compare served traffic against. Bin i covers [Edges[i], Edges[i+1]); the last bin also holds
/// its upper edge. Values outside the edges belong to the first or last bin.
/// </summary>
public sealed record FeatureProfile(
    string Feature,
    ImmutableArray<double> Edges,
    ImmutableArray<long> Counts,
    double Mean,
    double StdDev,
    long Count)
{
    /// <summary>
    /// Builds a profile with quantile edges (equal-mass bins suit PSI). A feature with at most
    /// <paramref name="bins"/> distinct values (flags, small categories) gets one bin per value,
    /// because quantile edges would merge them.
    /// </summary>
    public static FeatureProfile FromValues(string feature, ReadOnlySpan<double> values, int bins = 10)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(bins, 1);
        if (values.IsEmpty)
        {
            throw new ArgumentException($"feature '{feature}': no reference values", nameof(values));
        }

        var sorted = values.ToArray();
        Array.Sort(sorted);
        var distinct = new List<double>();
        foreach (var v in sorted)
        {
            if (distinct.Count == 0 || distinct[^1] != v)
            {
                distinct.Add(v);
                if (distinct.Count > bins)
                {
                    break;
                }
            }
        }

        double[] edges;
        if (distinct.Count <= bins)
        {
            edges = [.. distinct, distinct[^1] + 1];
        }
        else
        {
            var quantiles = new List<double>(bins + 1);
            for (var i = 0; i <= bins; i++)
            {
                var edge = sorted[(int)Math.Round((double)i * (sorted.Length - 1) / bins)];
                if (quantiles.Count == 0 || quantiles[^1] < edge)
                {
                    quantiles.Add(edge);
                }
            }

            edges = [.. quantiles];
        }

        var counts = new long[edges.Length - 1];
        double sum = 0;
        foreach (var v in values)
        {
            counts[BinOf(edges, v)]++;
            sum += v;
        }

        var mean = sum / values.Length;
        double squares = 0;
        foreach (var v in values)
        {
            squares += (v - mean) * (v - mean);
        }

        return new FeatureProfile(feature, [.. edges], [.. counts], mean, Math.Sqrt(squares / values.Length), values.Length);
    }

    /// <summary>The bin a value falls in, clamped to the first and last bins.</summary>
    public int BinOf(double value) => BinOf(Edges.AsSpan(), value);

    private static int BinOf(ReadOnlySpan<double> edges, double value)
    {
        var bins = edges.Length - 1;
        var index = edges.BinarySearch(value);

        // An exact hit on edge i starts bin i; otherwise ~index is the first edge above the value.
        var bin = index >= 0 ? index : ~index - 1;
        return Math.Clamp(bin, 0, bins - 1);
    }
}
