namespace Mlops.Stream.Demo;

/// <summary>
/// Makes a synthetic card-fraud data set shaped like the real ones: heavy-tailed amounts and
/// distances, night-time and card-not-present fraud, merchant risk, velocity, young accounts, and
/// PCA-like latent features V1..V19 of which only some carry signal. Classes overlap, so a good
/// model scores well below a perfect AUC. Deterministic for a seed (System.Random with a seed is
/// a fixed algorithm), so the trained model and its sha256 are reproducible.
/// </summary>
public static class FraudDataGenerator
{
    // Mean shift of the latent features for fraud rows; the rest are pure noise, as in real
    // PCA-anonymised data where only a few components separate the classes.
    private static readonly double[] LatentShift = [1.1, -0.9, 0.7, -0.6, 0.5, 0.4, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0];

    public static FraudDataset Generate(int rows, int seed, double fraudRate = 0.02)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(rows);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(fraudRate);
        var random = new Random(seed);
        var features = new float[rows * FraudDataset.FeatureCount];
        var labels = new int[rows];
        for (var r = 0; r < rows; r++)
        {
            var fraud = random.NextDouble() < fraudRate;
            labels[r] = fraud ? 1 : 0;
            FillRow(random, fraud, features.AsSpan(r * FraudDataset.FeatureCount, FraudDataset.FeatureCount));
        }

        return new FraudDataset(features, labels);
    }

    private static void FillRow(Random random, bool fraud, Span<float> row)
    {
        var customerMedian = LogNormal(random, 3.5, 0.5);
        var amount = fraud ? LogNormal(random, 4.3, 1.1) : LogNormal(random, 3.5, 0.9);
        var hour = fraud && random.NextDouble() < 0.45
            ? random.Next(0, 6)
            : (int)Math.Floor(Wrap24(Normal(random, 14, 4.5)));
        var cardPresent = random.NextDouble() < (fraud ? 0.25 : 0.7);
        var online = !cardPresent || random.NextDouble() < 0.05;
        var foreign = random.NextDouble() < (fraud ? 0.25 : 0.05);

        row[0] = (float)Math.Round(amount, 2);
        row[1] = hour;
        row[2] = (float)Math.Pow(random.NextDouble(), fraud ? 1.3 : 3.0);
        row[3] = (float)LogNormal(random, fraud ? 2.6 : 1.6, fraud ? 1.4 : 1.0);
        row[4] = (float)LogNormal(random, fraud ? 1.6 : 0.6, 1.2);
        row[5] = (float)(amount / customerMedian);
        row[6] = Poisson(random, fraud ? 6 : 3);
        row[7] = cardPresent ? 1 : 0;
        row[8] = online ? 1 : 0;
        row[9] = foreign ? 1 : 0;
        row[10] = (float)Math.Round(-Math.Log(1 - random.NextDouble()) * (fraud ? 350 : 900));

        // Latent features: correlated pairs (as PCA residue often is) plus the fraud shift.
        var shared = Normal(random, 0, 1);
        for (var i = 0; i < LatentShift.Length; i++)
        {
            var value = Normal(random, 0, 1) + (i < 4 ? 0.35 * shared : 0);
            row[11 + i] = (float)(value + (fraud ? LatentShift[i] : 0));
        }
    }

    private static double Wrap24(double hour) => ((hour % 24) + 24) % 24;

    private static double LogNormal(Random random, double mu, double sigma) => Math.Exp(Normal(random, mu, sigma));

    /// <summary>Box-Muller; one of the pair is discarded to keep the draw sequence simple.</summary>
    private static double Normal(Random random, double mean, double stdDev)
    {
        var u1 = 1.0 - random.NextDouble();
        var u2 = random.NextDouble();
        return mean + stdDev * Math.Sqrt(-2.0 * Math.Log(u1)) * Math.Cos(2.0 * Math.PI * u2);
    }

    /// <summary>Knuth's method; fine for the small rates used here.</summary>
    private static int Poisson(Random random, double lambda)
    {
        var limit = Math.Exp(-lambda);
        var k = 0;
        var p = 1.0;
        do
        {
            k++;
            p *= random.NextDouble();
        }
        while (p > limit);
        return k - 1;
    }
}
