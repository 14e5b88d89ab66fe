namespace Mlops.Stream.Drift.Internal;

/// <summary>
/// The two-sided one-sample Kolmogorov-Smirnov distribution at finite n: P(D_n &gt; x), what
/// scipy.stats.kstwo.sf(x, n) returns. The method per region follows Simard and L'Ecuyer (2011),
/// "Computing the two-sided Kolmogorov-Smirnov distribution", as scipy 1.10 does: closed forms at
/// the ends, 2 * Smirnov for large x, the Durbin matrix (Marsaglia-Tsang-Wang) or Pomeranz
/// recursion for small n x^2, and the Pelz-Good expansion for large n.
/// </summary>
internal static class KolmogorovDistribution
{
    private const int ScaleExponent = 128;
    private static readonly double ScaleUp = Math.ScaleB(1.0, ScaleExponent);
    private static readonly double ScaleDown = Math.ScaleB(1.0, -ScaleExponent);

    public static double Survival(int n, double x)
    {
        if (n <= 0 || double.IsNaN(x))
        {
            return double.NaN;
        }

        if (x >= 1)
        {
            return 0;
        }

        if (x <= 0)
        {
            return 1;
        }

        var t = n * x;
        if (t <= 1)
        {
            // Ruben-Gambino: for 1/2n <= x <= 1/n the CDF is n! / n^n (2t - 1)^n.
            if (t <= 0.5)
            {
                return 1;
            }

            double cdf;
            if (n <= 140)
            {
                cdf = 1;
                for (var i = 1; i <= n; i++)
                {
                    cdf *= i * (1.0 / n) * ((2 * t) - 1);
                }
            }
            else
            {
                cdf = Math.Exp(LogFactorialOverPower(n) + (n * Math.Log((2 * t) - 1)));
            }

            return Clip(1 - cdf);
        }

        if (t >= n - 1)
        {
            return Clip(2 * Math.Pow(1 - x, n));
        }

        if (x >= 0.5)
        {
            return Clip(2 * SmirnovDistribution.Survival(n, x));
        }

        var nxSquared = t * x;
        if (n <= 140)
        {
            if (nxSquared <= 0.754693)
            {
                return Clip(1 - DurbinMatrixCdf(n, x));
            }

            if (nxSquared <= 4)
            {
                return Clip(1 - PomeranzCdf(n, x));
            }

            return Clip(2 * SmirnovDistribution.Survival(n, x));
        }

        if (nxSquared >= 370)
        {
            return 0;
        }

        if (nxSquared >= 2.2)
        {
            return Clip(2 * SmirnovDistribution.Survival(n, x));
        }

        var cdfLarge = n <= 100_000 && n * Math.Pow(x, 1.5) <= 1.4
            ? DurbinMatrixCdf(n, x)
            : PelzGoodCdf(n, x);
        return Clip(1 - cdfLarge);
    }

    private static double Clip(double p) => Math.Clamp(p, 0, 1);

    /// <summary>log(n! / n^n) by Stirling's series.</summary>
    private static double LogFactorialOverPower(int n)
    {
        ReadOnlySpan<double> coefficients =
        [
            -2.955065359477124183e-2, 6.4102564102564102564e-3, -1.9175269175269175269e-3,
            8.4175084175084175084e-4, -5.952380952380952381e-4, 7.9365079365079365079e-4,
            -2.7777777777777777778e-3, 8.3333333333333333333e-2,
        ];
        var rn = 1.0 / n;
        var z = rn / n;
        double poly = 0;
        foreach (var c in coefficients)
        {
            poly = (poly * z) + c;
        }

        return (Math.Log(n) / 2) - n + (Math.Log(2 * Math.PI) / 2) + (rn * poly);
    }

    /// <summary>
    /// P(D_n &lt;= d) as element (k,k) of H^n times n!/n^n (Durbin 1968; Marsaglia, Tsang, Wang
    /// 2003), with k = ceil(n d). Powers are rescaled by 2^128 to stay inside a double.
    /// </summary>
    private static double DurbinMatrixCdf(int n, double d)
    {
        var nd = n * d;
        if (nd <= 0.5)
        {
            return 0;
        }

        var k = (int)Math.Ceiling(nd);
        var h = k - nd;
        var m = (2 * k) - 1;

        var v = new double[m];
        var w = new double[m];
        double factorial = 1;
        for (var j = 1; j <= m; j++)
        {
            w[j - 1] = factorial;
            factorial /= j;
            v[j - 1] = (1.0 - Math.Pow(h, j)) * factorial;
        }

        var tail = Math.Pow(Math.Max((2 * h) - 1.0, 0), m) - (2 * Math.Pow(h, m));
        v[m - 1] = (1.0 + tail) * factorial;

        var hMatrix = new double[m, m];
        for (var i = 1; i < m; i++)
        {
            for (var row = i - 1; row < m; row++)
            {
                hMatrix[row, i] = w[row - i + 1];
            }
        }

        for (var row = 0; row < m; row++)
        {
            hMatrix[row, 0] = v[row];
        }

        for (var col = 0; col < m; col++)
        {
            hMatrix[m - 1, col] = v[m - 1 - col];
        }

        var power = Identity(m);
        var exponent = 0;
        var hExponent = 0;
        var remaining = n;
        while (remaining > 0)
        {
            if (remaining % 2 == 1)
            {
                power = Multiply(power, hMatrix);
                exponent += hExponent;
            }

            hMatrix = Multiply(hMatrix, hMatrix);
            hExponent *= 2;
            if (Math.Abs(hMatrix[k - 1, k - 1]) > ScaleUp)
            {
                Scale(hMatrix, ScaleDown);
                hExponent += ScaleExponent;
            }

            remaining /= 2;
        }

        var p = power[k - 1, k - 1];
        for (var i = 1; i <= n; i++)
        {
            p = i * p / n;
            if (Math.Abs(p) < ScaleDown)
            {
                p *= ScaleUp;
                exponent -= ScaleExponent;
            }
        }

        return Clip(Math.ScaleB(p, exponent));
    }

    /// <summary>P(D_n &lt;= x) by Pomeranz's (1974) recursion over 2n + 2 rows of convolutions.</summary>
    private static double PomeranzCdf(int n, double x)
    {
        var t = n * x;
        var ll = (int)Math.Floor(t);
        var f = t - ll;
        var g = Math.Min(f, 1.0 - f);
        var ceilF = f > 0 ? 1 : 0;
        var roundF = f > 0.5 ? 1 : 0;
        var powers = 2 * (ll + 1);

        // (g/n)^m/m!, (2g/n)^m/m!, ((1-2g)/n)^m/m!: the three step kernels.
        var gPower = new double[powers];
        var twoGPower = new double[powers];
        var oneMinusTwoGPower = new double[powers];
        gPower[0] = twoGPower[0] = oneMinusTwoGPower[0] = 1;
        for (var m = 1; m < powers; m++)
        {
            gPower[m] = gPower[m - 1] * (g / n) / m;
            twoGPower[m] = twoGPower[m - 1] * (2 * g / n) / m;
            oneMinusTwoGPower[m] = oneMinusTwoGPower[m - 1] * ((1 - (2 * g)) / n) / m;
        }

        var previous = new double[powers];
        var current = new double[powers];
        current[0] = 1;
        int previousStart = 0, currentStart = 0;
        var exponent = 0;

        var (j1, j2) = PomeranzRowBounds(0, n, ll, ceilF, roundF);
        for (var i = 1; i < (2 * n) + 2; i++)
        {
            var k1 = j1;
            (previous, current) = (current, previous);
            (previousStart, currentStart) = (currentStart, previousStart);
            Array.Clear(current);
            (j1, j2) = PomeranzRowBounds(i, n, ll, ceilF, roundF);
            var kernel = i == 1 || i == (2 * n) + 1
                ? gPower
                : (i % 2 == 1 ? twoGPower : oneMinusTwoGPower);
            var length = j2 - k1 + 1;
            if (length > 0)
            {
                var offset = k1 - previousStart;
                var from = j1 - k1;
                var count = j2 - j1 + 1;
                var max = 0.0;
                for (var c = 0; c < count; c++)
                {
                    // Entry (from + c) of the full convolution of previous[offset..offset+length) with kernel[0..length).
                    var index = from + c;
                    double s = 0;
                    for (var a = Math.Max(0, index - length + 1); a <= Math.Min(index, length - 1); a++)
                    {
                        var pa = offset + a;
                        var kb = index - a;
                        if (pa >= 0 && pa < previous.Length && kb < kernel.Length)
                        {
                            s += previous[pa] * kernel[kb];
                        }
                    }

                    current[c] = s;
                    max = Math.Max(max, s);
                }

                if (max > 0 && max < ScaleDown)
                {
                    for (var c = 0; c < current.Length; c++)
                    {
                        current[c] *= ScaleUp;
                    }

                    exponent -= ScaleExponent;
                }

                currentStart = previousStart + j1 - k1;
            }
        }

        var answer = current[n - currentStart];
        for (var m = 1; m <= n; m++)
        {
            if (Math.Abs(answer) > ScaleUp)
            {
                answer *= ScaleDown;
                exponent += ScaleExponent;
            }

            answer *= m;
        }

        return Clip(Math.ScaleB(answer, exponent));
    }

    private static (int First, int Last) PomeranzRowBounds(int i, int n, int ll, int ceilF, int roundF)
    {
        int j1, j2;
        if (i == 0)
        {
            j1 = -ll - ceilF - 1;
            j2 = ll + ceilF - 1;
        }
        else
        {
            var half = (i + 1) / 2;
            if ((i + 1) % 2 == 0)
            {
                if (half == n + 1)
                {
                    j1 = n - ll - ceilF - 1;
                    j2 = n + ll + ceilF - 1;
                }
                else
                {
                    j1 = half - 1 - ll - roundF - 1;
                    j2 = half + ll - 1 + ceilF - 1;
                }
            }
            else
            {
                j1 = half - 1 - ll - 1;
                j2 = half + ll + roundF - 1;
            }
        }

        return (Math.Max(j1 + 2, 0), Math.Min(j2, n));
    }

    /// <summary>
    /// The Pelz-Good (1976) expansion of P(D_n &lt;= x): the Li-Chien/Korolyuk series
    /// K0 + K1/sqrt(n) + K2/n + K3/n^1.5 at z = x sqrt(n), in theta-function form for small z.
    /// </summary>
    private static double PelzGoodCdf(int n, double x)
    {
        var z = Math.Sqrt(n) * x;
        var z2 = z * z;
        var z3 = z2 * z;
        var z4 = z2 * z2;
        var z6 = z4 * z2;
        const double pi2 = Math.PI * Math.PI;
        const double pi4 = pi2 * pi2;
        const double pi6 = pi4 * pi2;
        var sqrt2Pi = Math.Sqrt(2 * Math.PI);

        var qLog = -pi2 / 8 / z2;
        if (qLog < -708)
        {
            return 0;
        }

        var q = Math.Exp(qLog);
        var k1a = -z2;
        var k1b = pi2 / 4;
        var k2a = (6 * z6) + (2 * z4);
        var k2b = ((2 * z4) - (5 * z2)) * pi2 / 4;
        var k2c = pi4 * (1 - (2 * z2)) / 16;
        var k3d = pi6 * (5 - (30 * z2)) / 64;
        var k3c = pi4 * ((-60 * z2) + (212 * z4)) / 16;
        var k3b = pi2 * ((135 * z4) - (96 * z6)) / 4;
        var k3a = (-30 * z6) - (90 * Math.Pow(z, 8));

        Span<double> k = stackalloc double[4];
        var maxK = (int)Math.Ceiling(16 * z / Math.PI);
        for (var i = maxK; i > 0; i--)
        {
            double m = (2 * i) - 1;
            var m2 = m * m;
            var m4 = m2 * m2;
            var m6 = m4 * m2;
            var qPower = Math.Pow(q, 8 * i);
            k[0] = (k[0] * qPower) + 1.0;
            k[1] = (k[1] * qPower) + k1a + (k1b * m2);
            k[2] = (k[2] * qPower) + k2a + (k2b * m2) + (k2c * m4);
            k[3] = (k[3] * qPower) + k3a + (k3b * m2) + (k3c * m4) + (k3d * m6);
        }

        ReadOnlySpan<double> divisors = [z, 6 * z4, 72 * Math.Pow(z, 7), 6480 * Math.Pow(z, 10)];
        for (var i = 0; i < 4; i++)
        {
            k[i] = k[i] * q * sqrt2Pi / divisors[i];
        }

        var q2 = Math.Exp(-pi2 / 2 / z2);
        double k2Extra = 0;
        double k3Extra = 0;
        var sqrt3z = Math.Sqrt(3) * z;
        for (var i = maxK; i > 0; i--)
        {
            double i2 = (double)i * i;
            var qPower = Math.Pow(q2, i2);
            var kPi = Math.PI * i;
            k2Extra += i2 * qPower;
            k3Extra += (sqrt3z + kPi) * (sqrt3z - kPi) * i2 * qPower;
        }

        k[2] += k2Extra * pi2 * sqrt2Pi / (-36 * z3);
        k[3] += k3Extra * pi2 * sqrt2Pi / (216 * z6);

        double sum = 0;
        for (var i = 0; i < 4; i++)
        {
            sum += k[i] / Math.Pow(n, i / 2.0);
        }

        return sum;
    }

    private static double[,] Identity(int m)
    {
        var identity = new double[m, m];
        for (var i = 0; i < m; i++)
        {
            identity[i, i] = 1;
        }

        return identity;
    }

    private static double[,] Multiply(double[,] a, double[,] b)
    {
        var m = a.GetLength(0);
        var product = new double[m, m];
        for (var i = 0; i < m; i++)
        {
            for (var l = 0; l < m; l++)
            {
                var ail = a[i, l];
                if (ail == 0)
                {
                    continue;
                }

                for (var j = 0; j < m; j++)
                {
                    product[i, j] += ail * b[l, j];
                }
            }
        }

        return product;
    }

    private static void Scale(double[,] matrix, double factor)
    {
        var m = matrix.GetLength(0);
        for (var i = 0; i < m; i++)
        {
            for (var j = 0; j < m; j++)
            {
                matrix[i, j] *= factor;
            }
        }
    }
}
