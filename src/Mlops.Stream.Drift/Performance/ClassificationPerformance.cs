namespace Mlops.Stream.Drift.Performance;

/// <summary>How precision and recall were averaged.</summary>
public enum PerformanceAverage
{
    /// <summary>Two classes: precision and recall of the positive class, class 1.</summary>
    Binary,

    /// <summary>
    /// More classes (or an unknown count): the unweighted mean over the classes that occur in the
    /// labels or the predictions, a class's undefined precision or recall counting as 0, as
    /// scikit-learn's <c>average="macro"</c> with <c>zero_division=0</c>.
    /// </summary>
    Macro,
}

/// <summary>
/// A window's performance against ground truth (issue 11, concept drift), over the labelled rows
/// matched while the window was open. Undefined figures are null, not 0: accuracy with no labels,
/// binary precision with no positive prediction, binary recall with no positive label, ROC AUC
/// with one class only or no probabilities (and for more than two classes, where one positive
/// class's score does not define it).
/// </summary>
/// <param name="Labelled">Labelled rows counted into the window.</param>
/// <param name="Late">Of those, rows whose served event was in an earlier window of the version (the label came after that window closed).</param>
/// <param name="Classes">Classes of the model: its probability columns, else its manifest's labels; 0 when unknown.</param>
/// <param name="Average">How precision and recall were averaged.</param>
/// <param name="PositiveClass">1 for <see cref="PerformanceAverage.Binary"/>; null for macro.</param>
/// <param name="Accuracy">Share of labelled rows predicted right.</param>
/// <param name="Precision">Binary: tp / (tp + fp) of class 1. Macro: the mean over classes.</param>
/// <param name="Recall">Binary: tp / (tp + fn) of class 1. Macro: the mean over classes.</param>
/// <param name="RocAuc">Binary only: the area under the ROC curve of the served probability of class 1 (<see cref="Performance.RocAuc"/>).</param>
public sealed record ClassificationPerformance(
    int Labelled,
    int Late,
    int Classes,
    PerformanceAverage Average,
    int? PositiveClass,
    double? Accuracy,
    double? Precision,
    double? Recall,
    double? RocAuc)
{
    /// <summary>The positive class of a binary model.</summary>
    public const int Positive = 1;

    /// <summary>The performance over <paramref name="rows"/> of a model with <paramref name="classes"/> classes.</summary>
    public static ClassificationPerformance Of(IReadOnlyList<LabelledPrediction> rows, int classes, int late = 0)
    {
        var average = classes == 2 ? PerformanceAverage.Binary : PerformanceAverage.Macro;
        int? positiveClass = average == PerformanceAverage.Binary ? Positive : null;
        if (rows.Count == 0)
        {
            return new ClassificationPerformance(0, 0, classes, average, positiveClass, null, null, null, null);
        }

        var correct = rows.Count(r => r.Actual == r.Predicted);
        var accuracy = (double)correct / rows.Count;
        if (average == PerformanceAverage.Binary)
        {
            var (precision, recall) = PrecisionRecall(rows, Positive);
            var scores = rows.Select(r => r.PositiveScore).ToArray();
            var truths = rows.Select(r => r.Actual == Positive).ToArray();
            return new ClassificationPerformance(rows.Count, late, classes, average, positiveClass, accuracy, precision, recall,
                Performance.RocAuc.Compute(scores, truths));
        }

        var present = rows.Select(r => r.Actual).Concat(rows.Select(r => r.Predicted)).Distinct().ToList();
        var perClass = present.Select(c => PrecisionRecall(rows, c)).ToList();
        return new ClassificationPerformance(rows.Count, late, classes, average, positiveClass, accuracy,
            perClass.Average(p => p.Precision ?? 0), perClass.Average(p => p.Recall ?? 0), null);
    }

    /// <summary>Precision and recall of <paramref name="positive"/> against the rest; null where the denominator is 0.</summary>
    private static (double? Precision, double? Recall) PrecisionRecall(IReadOnlyList<LabelledPrediction> rows, int positive)
    {
        int truePositives = 0, predictedPositives = 0, actualPositives = 0;
        foreach (var row in rows)
        {
            if (row.Predicted == positive) predictedPositives++;
            if (row.Actual == positive) actualPositives++;
            if (row.Predicted == positive && row.Actual == positive) truePositives++;
        }

        return (predictedPositives == 0 ? null : (double)truePositives / predictedPositives,
                actualPositives == 0 ? null : (double)truePositives / actualPositives);
    }
}
