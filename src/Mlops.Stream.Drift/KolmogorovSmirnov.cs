using Mlops.Stream.Drift.Internal;

namespace Mlops.Stream.Drift;

/// <summary>The two-sample Kolmogorov-Smirnov test, two-sided, with the asymptotic p-value.</summary>
public static class KolmogorovSmirnov
{
    /// <summary>
    /// The test on the finite values of both samples, computed as scipy's
    /// <c>ks_2samp(reference, current, method="asymp")</c> (scipy 1.10): D from the merged empirical
    /// CDFs, p = kstwo.sf(D, round(m*n/(m+n))), the exact finite-n Kolmogorov distribution at the
    /// effective sample size, not the limiting Kolmogorov distribution. Both are NaN when either
    /// sample has no finite value.
    /// </summary>
    public static KolmogorovSmirnovResult TwoSample(ReadOnlySpan<double> reference, ReadOnlySpan<double> current)
    {
        var a = FiniteValues.Sorted(reference);
        var b = FiniteValues.Sorted(current);
        if (a.Length == 0 || b.Length == 0)
        {
            return new KolmogorovSmirnovResult(double.NaN, double.NaN, a.Length, b.Length);
        }

        var d = LargestCdfGap(a, b);
        double m = Math.Max(a.Length, b.Length);
        double n = Math.Min(a.Length, b.Length);

        // Math.Round rounds half to even, as numpy's round does.
        var effectiveSize = (int)Math.Round(m * n / (m + n));
        var p = Math.Clamp(KolmogorovDistribution.Survival(effectiveSize, d), 0, 1);
        return new KolmogorovSmirnovResult(d, p, a.Length, b.Length);
    }

    /// <summary>sup |F_a - F_b| over the merged sorted samples; ties advance together, so equal values never open a gap.</summary>
    private static double LargestCdfGap(double[] a, double[] b)
    {
        int i = 0, j = 0;
        double d = 0;
        while (i < a.Length && j < b.Length)
        {
            var x = Math.Min(a[i], b[j]);
            while (i < a.Length && a[i] == x)
            {
                i++;
            }

            while (j < b.Length && b[j] == x)
            {
                j++;
            }

            d = Math.Max(d, Math.Abs(((double)i / a.Length) - ((double)j / b.Length)));
        }

        return d;
    }
}
