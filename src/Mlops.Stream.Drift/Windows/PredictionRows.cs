namespace Mlops.Stream.Drift.Windows;

/// <summary>
/// A served event's outputs as a classifier's predictions, row by row. Outputs are recognised by
/// shape, not by name, so any classifier exported the usual way (scikit-learn's ONNX converters,
/// the demo model) is understood:
/// <list type="bullet">
/// <item>class probabilities: the first [rows, k] output with k &gt;= 2 (k equal to the manifest's
/// labels when it names them);</item>
/// <item>the predicted class: the first other [rows] or [rows, 1] output holding whole numbers in
/// [0, k); without one, the most probable class (the first on ties).</item>
/// </list>
/// An event with neither (a regressor, string labels only) gives no predictions: its inputs still
/// count for feature drift.
/// </summary>
/// <param name="Rows">Rows of the event.</param>
/// <param name="Classes">k: probability columns, else the manifest's labels; 0 when unknown.</param>
/// <param name="ProbabilityOutput">The probability output's name; null when the event has none.</param>
/// <param name="Probabilities">Row-major [rows, k] probabilities; null when the event has none.</param>
/// <param name="Predicted">The predicted class of each row.</param>
public sealed record PredictionRows(int Rows, int Classes, string? ProbabilityOutput, double[]? Probabilities, int[] Predicted)
{
    /// <summary>The probability of class 1 of each row for a binary model; NaN for each row otherwise.</summary>
    public double[] PositiveScores()
    {
        var scores = new double[Rows];
        for (var r = 0; r < Rows; r++)
        {
            scores[r] = Classes == 2 && Probabilities is { } p ? p[(r * 2) + 1] : double.NaN;
        }

        return scores;
    }

    /// <summary>The predictions in <paramref name="served"/>'s outputs for its <paramref name="rows"/> rows; null when it has none.</summary>
    public static PredictionRows? From(ServedEvent served, VersionReference reference, int rows)
    {
        var named = reference.ClassLabels.IsDefaultOrEmpty ? 0 : reference.ClassLabels.Length;
        var probabilities = served.Outputs.FirstOrDefault(t =>
            t.Shape is [var r, var k] && r == rows && k >= 2 && (named == 0 || k == named));
        var classes = probabilities is null ? named : (int)probabilities.Shape[1];
        var labels = served.Outputs.FirstOrDefault(t =>
            !ReferenceEquals(t, probabilities) && (t.Shape is [var r] && r == rows || t.Shape is [var r1, 1] && r1 == rows) &&
            t.Values.All(v => v >= 0 && v == Math.Floor(v) && (classes == 0 ? v < int.MaxValue : v < classes)));
        if (rows == 0 || (probabilities is null && labels is null))
        {
            return null;
        }

        var predicted = labels is not null
            ? labels.Values.Select(v => (int)v).ToArray()
            : Enumerable.Range(0, rows).Select(r => ArgMax(probabilities!.Values.AsSpan(r * classes, classes))).ToArray();
        return new PredictionRows(rows, classes, probabilities?.Name, probabilities?.Values, predicted);
    }

    private static int ArgMax(ReadOnlySpan<double> values)
    {
        var best = 0;
        for (var i = 1; i < values.Length; i++)
        {
            if (values[i] > values[best])
            {
                best = i;
            }
        }

        return best;
    }
}
