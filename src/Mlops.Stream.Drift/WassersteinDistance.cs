using Mlops.Stream.Drift.Internal;

namespace Mlops.Stream.Drift;

/// <summary>
/// The first Wasserstein (earth mover's) distance between two samples, as
/// scipy.stats.wasserstein_distance computes it: the integral of |F_a - F_b| over the merged values.
/// </summary>
public static class WassersteinDistance
{
    /// <summary>
    /// The divisor used when the reference's standard deviation is smaller, so a constant reference
    /// feature gives a large finite score instead of infinity (the floor Evidently uses).
    /// </summary>
    public const double MinStdDev = 1e-3;

    /// <summary>The distance between the finite values of both samples; NaN when either has none.</summary>
    public static double Between(ReadOnlySpan<double> reference, ReadOnlySpan<double> current)
    {
        var a = FiniteValues.Sorted(reference);
        var b = FiniteValues.Sorted(current);
        return a.Length == 0 || b.Length == 0 ? double.NaN : BetweenSorted(a, b);
    }

    /// <summary>
    /// The distance in units of the reference's population standard deviation (ddof = 0), floored
    /// at <see cref="MinStdDev"/>: scipy.stats.wasserstein_distance(reference, current) /
    /// max(numpy.std(reference), 0.001). Scale-free, so one threshold (0.1) serves every feature.
    /// </summary>
    public static double Normalised(ReadOnlySpan<double> reference, ReadOnlySpan<double> current)
    {
        var a = FiniteValues.Sorted(reference);
        var b = FiniteValues.Sorted(current);
        if (a.Length == 0 || b.Length == 0)
        {
            return double.NaN;
        }

        return BetweenSorted(a, b) / Math.Max(PopulationStdDev(a), MinStdDev);
    }

    private static double BetweenSorted(double[] a, double[] b)
    {
        // Walk the merged values; between consecutive ones both CDFs are flat.
        int i = 0, j = 0;
        double distance = 0;
        var x = Math.Min(a[0], b[0]);
        while (i < a.Length || j < b.Length)
        {
            while (i < a.Length && a[i] == x)
            {
                i++;
            }

            while (j < b.Length && b[j] == x)
            {
                j++;
            }

            if (i == a.Length && j == b.Length)
            {
                break;
            }

            var next = Math.Min(i < a.Length ? a[i] : double.PositiveInfinity, j < b.Length ? b[j] : double.PositiveInfinity);
            distance += Math.Abs(((double)i / a.Length) - ((double)j / b.Length)) * (next - x);
            x = next;
        }

        return distance;
    }

    private static double PopulationStdDev(double[] values)
    {
        double sum = 0;
        foreach (var v in values)
        {
            sum += v;
        }

        var mean = sum / values.Length;
        double squares = 0;
        foreach (var v in values)
        {
            squares += (v - mean) * (v - mean);
        }

        return Math.Sqrt(squares / values.Length);
    }
}
