using Mlops.Stream.Drift.Performance;

namespace Mlops.Stream.Drift.Tests.Performance;

/// <summary>
/// Expected figures from Debian's python3-sklearn 1.2.1 (sklearn.metrics), on the rows written here:
/// <code>
/// y = [1,0,1,1,0,0,1,0,1,0,0,1]; p = [1,0,0,1,0,1,1,0,1,1,0,0]
/// s = [0.9,0.1,0.4,0.8,0.35,0.6,0.7,0.2,0.8,0.55,0.1,0.35]
/// accuracy_score(y, p), precision_score(y, p), recall_score(y, p), roc_auc_score(y, s)
///   -> 0.6666666666666666 0.6666666666666666 0.6666666666666666 0.875
/// ym = [0,1,2,2,1,0,2,1,0,2]; pm = [0,2,2,2,1,0,1,1,1,0]
/// accuracy_score(ym, pm), precision_score(ym, pm, average='macro', zero_division=0), recall_score(..same..)
///   -> 0.6 0.611111111111111 0.611111111111111
/// precision_score([0,0,1,1], [0,3,1,1], average='macro', zero_division=0), recall_score(..same..)
///   -> 0.6666666666666666 0.5
/// </code>
/// The scores hold ties across classes (0.35) and within one (0.8, 0.1), which the mid-rank AUC must count as sklearn's trapezoids do.
/// </summary>
public sealed class ClassificationPerformanceTests
{
    private static readonly int[] Y = [1, 0, 1, 1, 0, 0, 1, 0, 1, 0, 0, 1];
    private static readonly int[] P = [1, 0, 0, 1, 0, 1, 1, 0, 1, 1, 0, 0];
    private static readonly double[] S = [0.9, 0.1, 0.4, 0.8, 0.35, 0.6, 0.7, 0.2, 0.8, 0.55, 0.1, 0.35];

    private static LabelledPrediction[] Rows(int[] actual, int[] predicted, double[]? scores = null) =>
        [.. actual.Select((a, i) => new LabelledPrediction(a, predicted[i], scores?[i] ?? double.NaN))];

    [Fact]
    public void Binary_figures_match_sklearn()
    {
        var performance = ClassificationPerformance.Of(Rows(Y, P, S), classes: 2, late: 3);

        Assert.Equal((12, 3, PerformanceAverage.Binary, (int?)1), (performance.Labelled, performance.Late, performance.Average, performance.PositiveClass));
        Assert.Equal(0.6666666666666666, performance.Accuracy!.Value, 1e-12);
        Assert.Equal(0.6666666666666666, performance.Precision!.Value, 1e-12);
        Assert.Equal(0.6666666666666666, performance.Recall!.Value, 1e-12);
        Assert.Equal(0.875, performance.RocAuc!.Value, 1e-12);
    }

    [Fact]
    public void Macro_figures_match_sklearn_and_have_no_auc()
    {
        var performance = ClassificationPerformance.Of(Rows([0, 1, 2, 2, 1, 0, 2, 1, 0, 2], [0, 2, 2, 2, 1, 0, 1, 1, 1, 0]), classes: 3);

        Assert.Equal((PerformanceAverage.Macro, (int?)null, (double?)null), (performance.Average, performance.PositiveClass, performance.RocAuc));
        Assert.Equal(0.6, performance.Accuracy!.Value, 1e-12);
        Assert.Equal(0.611111111111111, performance.Precision!.Value, 1e-12);
        Assert.Equal(0.611111111111111, performance.Recall!.Value, 1e-12);
    }

    [Fact]
    public void Macro_averages_over_classes_in_labels_or_predictions_an_undefined_one_counting_zero()
    {
        var performance = ClassificationPerformance.Of(Rows([0, 0, 1, 1], [0, 3, 1, 1]), classes: 0);

        Assert.Equal(0.6666666666666666, performance.Precision!.Value, 1e-12);
        Assert.Equal(0.5, performance.Recall!.Value, 1e-12);
    }

    [Fact]
    public void Undefined_figures_are_null_not_zero()
    {
        var none = ClassificationPerformance.Of([], classes: 2);
        Assert.Equal((0, (double?)null, (double?)null, (double?)null, (double?)null), (none.Labelled, none.Accuracy, none.Precision, none.Recall, none.RocAuc));

        // Only negatives, all predicted negative: accuracy 1, no positive predicted or labelled, AUC undefined.
        var negatives = ClassificationPerformance.Of(Rows([0, 0, 0], [0, 0, 0], [0.1, 0.2, 0.3]), classes: 2);
        Assert.Equal((1.0, (double?)null, (double?)null, (double?)null), (negatives.Accuracy!.Value, negatives.Precision, negatives.Recall, negatives.RocAuc));
    }

    [Fact]
    public void Auc_leaves_out_rows_without_a_score_and_is_one_for_a_perfect_ranking()
    {
        // By hand: positives 0.9 and 0.8 rank above negatives 0.2 and 0.1; the NaN row is left out.
        Assert.Equal(1.0, RocAuc.Compute([0.9, 0.1, double.NaN, 0.8, 0.2], [true, false, true, true, false]));
        // By hand: all four scores tie, so every positive-negative pair counts one half.
        Assert.Equal(0.5, RocAuc.Compute([0.5, 0.5, 0.5, 0.5], [true, false, true, false]));
        Assert.Null(RocAuc.Compute([0.5, 0.7], [true, true]));
    }
}
