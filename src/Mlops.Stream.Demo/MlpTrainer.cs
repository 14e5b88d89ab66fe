namespace Mlops.Stream.Demo;

/// <summary>Hyper-parameters for <see cref="MlpTrainer"/>; the defaults train the demo model in well under a second.</summary>
public sealed record MlpTrainingOptions
{
    public int Hidden { get; init; } = 16;

    public int Epochs { get; init; } = 6;

    public int BatchSize { get; init; } = 128;

    public double LearningRate { get; init; } = 0.05;

    public double Momentum { get; init; } = 0.9;

    public double L2 { get; init; } = 1e-4;

    /// <summary>
    /// Loss weight of fraud rows. With 2% positives an unweighted model almost never predicts
    /// fraud at the 0.5 threshold the label output uses; weighting trades calibration for recall,
    /// so the probabilities overstate the fraud rate (documented in the manifest description).
    /// </summary>
    public double PositiveWeight { get; init; } = 8;
}

/// <summary>
/// Trains an <see cref="MlpClassifier"/> with mini-batch gradient descent with momentum on
/// class-weighted cross-entropy. Single-threaded, scalar double arithmetic and a seeded shuffle:
/// the same data and seed give bit-identical weights.
/// </summary>
public static class MlpTrainer
{
    public static MlpClassifier Train(FraudDataset data, int seed, MlpTrainingOptions? options = null)
    {
        options ??= new MlpTrainingOptions();
        var n = data.Rows;
        var inputs = FraudDataset.FeatureCount;
        var hidden = options.Hidden;
        const int classes = MlpClassifier.Classes;
        var (mean, std) = Standardisation(data);

        // Train on exactly the inputs the graph will compute: (x - mean) / std with float parameters.
        var x = new double[n * inputs];
        for (var r = 0; r < n; r++)
        {
            for (var i = 0; i < inputs; i++)
            {
                x[r * inputs + i] = ((double)data.Features[r * inputs + i] - mean[i]) / std[i];
            }
        }

        var random = new Random(seed);
        var w1 = Init(random, inputs * hidden, Math.Sqrt(2.0 / inputs));
        var b1 = new double[hidden];
        var w2 = Init(random, hidden * classes, Math.Sqrt(2.0 / hidden));
        var b2 = new double[classes];
        var v1 = new double[w1.Length];
        var vb1 = new double[hidden];
        var v2 = new double[w2.Length];
        var vb2 = new double[classes];
        var g1 = new double[w1.Length];
        var gb1 = new double[hidden];
        var g2 = new double[w2.Length];
        var gb2 = new double[classes];
        var pre = new double[hidden];
        var act = new double[hidden];
        var dh = new double[hidden];
        var order = Enumerable.Range(0, n).ToArray();

        for (var epoch = 0; epoch < options.Epochs; epoch++)
        {
            Shuffle(random, order);
            var learningRate = options.LearningRate / (1 + 0.15 * epoch);
            for (var start = 0; start < n; start += options.BatchSize)
            {
                var end = Math.Min(n, start + options.BatchSize);
                Array.Clear(g1);
                Array.Clear(gb1);
                Array.Clear(g2);
                Array.Clear(gb2);
                double totalWeight = 0;
                for (var k = start; k < end; k++)
                {
                    var row = order[k];
                    var xr = x.AsSpan(row * inputs, inputs);
                    for (var h = 0; h < hidden; h++)
                    {
                        var sum = b1[h];
                        for (var i = 0; i < inputs; i++)
                        {
                            sum += xr[i] * w1[i * hidden + h];
                        }

                        pre[h] = sum;
                        act[h] = Math.Max(0, sum);
                    }

                    var z0 = b2[0];
                    var z1 = b2[1];
                    for (var h = 0; h < hidden; h++)
                    {
                        z0 += act[h] * w2[h * classes];
                        z1 += act[h] * w2[h * classes + 1];
                    }

                    // Softmax of two logits is a sigmoid of their difference: numerically stable.
                    var p1 = 1.0 / (1.0 + Math.Exp(z0 - z1));
                    var y = data.Labels[row];
                    var weight = y == 1 ? options.PositiveWeight : 1.0;
                    totalWeight += weight;
                    var d1 = weight * (p1 - y);
                    var d0 = -d1;
                    gb2[0] += d0;
                    gb2[1] += d1;
                    for (var h = 0; h < hidden; h++)
                    {
                        g2[h * classes] += act[h] * d0;
                        g2[h * classes + 1] += act[h] * d1;
                        dh[h] = pre[h] > 0 ? w2[h * classes] * d0 + w2[h * classes + 1] * d1 : 0;
                        gb1[h] += dh[h];
                    }

                    for (var i = 0; i < inputs; i++)
                    {
                        var xi = xr[i];
                        for (var h = 0; h < hidden; h++)
                        {
                            g1[i * hidden + h] += xi * dh[h];
                        }
                    }
                }

                var scale = 1.0 / totalWeight;
                Step(w1, v1, g1, scale, learningRate, options);
                Step(b1, vb1, gb1, scale, learningRate, options with { L2 = 0 });
                Step(w2, v2, g2, scale, learningRate, options);
                Step(b2, vb2, gb2, scale, learningRate, options with { L2 = 0 });
            }
        }

        return new MlpClassifier(mean, std, ToFloat(w1), ToFloat(b1), ToFloat(w2), ToFloat(b2));
    }

    private static (float[] Mean, float[] Std) Standardisation(FraudDataset data)
    {
        var inputs = FraudDataset.FeatureCount;
        var mean = new float[inputs];
        var std = new float[inputs];
        for (var i = 0; i < inputs; i++)
        {
            double sum = 0;
            double squares = 0;
            for (var r = 0; r < data.Rows; r++)
            {
                double v = data.Features[r * inputs + i];
                sum += v;
                squares += v * v;
            }

            var m = sum / data.Rows;
            var variance = Math.Max(0, squares / data.Rows - m * m);
            mean[i] = (float)m;

            // A constant column would divide by zero; leave it unscaled instead.
            std[i] = variance > 1e-12 ? (float)Math.Sqrt(variance) : 1f;
        }

        return (mean, std);
    }

    private static void Step(double[] weights, double[] velocity, double[] gradient, double scale, double learningRate, MlpTrainingOptions options)
    {
        for (var i = 0; i < weights.Length; i++)
        {
            var g = gradient[i] * scale + options.L2 * weights[i];
            velocity[i] = options.Momentum * velocity[i] - learningRate * g;
            weights[i] += velocity[i];
        }
    }

    private static double[] Init(Random random, int count, double stdDev)
    {
        var values = new double[count];
        for (var i = 0; i < count; i++)
        {
            var u1 = 1.0 - random.NextDouble();
            var u2 = random.NextDouble();
            values[i] = stdDev * Math.Sqrt(-2.0 * Math.Log(u1)) * Math.Cos(2.0 * Math.PI * u2);
        }

        return values;
    }

    private static void Shuffle(Random random, int[] order)
    {
        for (var i = order.Length - 1; i > 0; i--)
        {
            var j = random.Next(i + 1);
            (order[i], order[j]) = (order[j], order[i]);
        }
    }

    private static float[] ToFloat(double[] values) => [.. values.Select(v => (float)v)];
}
