namespace Mlops.Stream.Demo;

/// <summary>
/// A trained two-layer perceptron: standardise → dense(H) → ReLU → dense(2) → softmax. The
/// parameters are float32, exactly as written into the ONNX graph, and <see cref="PredictProbabilities"/>
/// is the reference the exported model is checked against.
/// </summary>
public sealed class MlpClassifier
{
    internal MlpClassifier(float[] mean, float[] std, float[] w1, float[] b1, float[] w2, float[] b2)
    {
        Mean = mean;
        Std = std;
        W1 = w1;
        B1 = b1;
        W2 = w2;
        B2 = b2;
    }

    public int Inputs => Mean.Length;

    public int Hidden => B1.Length;

    public const int Classes = 2;

    /// <summary>Per-feature mean and standard deviation of the training data.</summary>
    internal float[] Mean { get; }

    internal float[] Std { get; }

    /// <summary>[Inputs, Hidden] row-major, as ONNX Gemm's B.</summary>
    internal float[] W1 { get; }

    internal float[] B1 { get; }

    /// <summary>[Hidden, Classes] row-major.</summary>
    internal float[] W2 { get; }

    internal float[] B2 { get; }

    /// <summary>Class probabilities for each row; returns rows × 2 values, row-major.</summary>
    public float[] PredictProbabilities(ReadOnlySpan<float> features)
    {
        var rows = features.Length / Inputs;
        var result = new float[rows * Classes];
        Span<double> hidden = stackalloc double[Hidden];
        Span<double> logits = stackalloc double[Classes];
        for (var r = 0; r < rows; r++)
        {
            Forward(features.Slice(r * Inputs, Inputs), hidden, logits);
            var max = Math.Max(logits[0], logits[1]);
            var e0 = Math.Exp(logits[0] - max);
            var e1 = Math.Exp(logits[1] - max);
            result[r * Classes] = (float)(e0 / (e0 + e1));
            result[r * Classes + 1] = (float)(e1 / (e0 + e1));
        }

        return result;
    }

    /// <summary>Logits of one row; standardisation uses the same float parameters as the graph.</summary>
    internal void Forward(ReadOnlySpan<float> row, Span<double> hidden, Span<double> logits)
    {
        for (var h = 0; h < Hidden; h++)
        {
            hidden[h] = B1[h];
        }

        for (var i = 0; i < Inputs; i++)
        {
            var x = ((double)row[i] - Mean[i]) / Std[i];
            for (var h = 0; h < Hidden; h++)
            {
                hidden[h] += x * W1[i * Hidden + h];
            }
        }

        for (var c = 0; c < Classes; c++)
        {
            logits[c] = B2[c];
        }

        for (var h = 0; h < Hidden; h++)
        {
            var a = Math.Max(0, hidden[h]);
            for (var c = 0; c < Classes; c++)
            {
                logits[c] += a * W2[h * Classes + c];
            }
        }
    }
}
