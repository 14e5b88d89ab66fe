namespace Mlops.Stream.Drift.Internal;

/// <summary>
/// The one-sided Kolmogorov-Smirnov (Smirnov) distribution: P(D+_n &gt; x), scipy.special.smirnov.
/// The exact Birnbaum-Tingey sum, evaluated term by term in logarithms (the binomial coefficients
/// overflow a double long before n reaches a window size).
/// </summary>
internal static class SmirnovDistribution
{
    /// <summary>Above this n scipy stops summing and uses an approximation; so do we, to agree with it.</summary>
    private const int MaxExactN = 1_000_000;

    /// <summary>exp() of anything below this underflows a double (cephes MINLOG).</summary>
    private const double MinLog = -708.3964185322641;

    public static double Survival(int n, double x)
    {
        if (double.IsNaN(x) || n <= 0 || x < 0 || x > 1)
        {
            return double.NaN;
        }

        if (n == 1)
        {
            return x;
        }

        if (x == 0)
        {
            return 1;
        }

        if (x == 1)
        {
            return 0;
        }

        var nx = n * x;
        if (nx <= 1)
        {
            // x <= 1/n: the CDF has the closed form x (1 + x)^(n-1).
            return Math.Clamp(1 - (x * Math.Pow(1 + x, n - 1)), 0, 1);
        }

        if (-2 * n * x * x < MinLog)
        {
            return 0;
        }

        if (Math.Floor(nx) >= n - 1)
        {
            return Math.Pow(1 - x, n);
        }

        if (n > MaxExactN)
        {
            var logp = -Math.Pow((6.0 * n * x) + 1, 2) / 18.0 / n;
            return Math.Exp(logp);
        }

        return Math.Clamp(x * BirnbaumTingeySum(n, x), 0, 1);
    }

    /// <summary>
    /// Sum over v = 0..floor(n(1-x)) of C(n,v) (1 - x - v/n)^(n-v) (x + v/n)^(v-1). All terms are
    /// positive, so the sum is stable; it stops once the remaining terms cannot change it.
    /// </summary>
    private static double BirnbaumTingeySum(int n, double x)
    {
        var last = (int)Math.Floor(n * (1 - x));
        double logBinomial = 0;
        double sum = 0;
        double previous = 0;
        for (var v = 0; v <= last; v++)
        {
            var below = 1 - x - ((double)v / n);
            var above = x + ((double)v / n);
            var term = below <= 0
                ? 0
                : Math.Exp(logBinomial + ((n - v) * Math.Log(below)) + ((v - 1) * Math.Log(above)));
            sum += term;

            // Past the peak the terms only shrink; stop when the rest is below rounding.
            if (term < previous && (last - v) * term < double.Epsilon + (sum * 1e-17))
            {
                break;
            }

            previous = term;
            logBinomial += Math.Log((double)(n - v) / (v + 1));
        }

        return sum;
    }
}
