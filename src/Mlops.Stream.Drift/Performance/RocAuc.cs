namespace Mlops.Stream.Drift.Performance;

/// <summary>
/// Area under the ROC curve of a binary classifier's scores: the probability that a random
/// positive row scores above a random negative one, ties counting one half. Computed as the
/// Mann-Whitney U statistic over mid-ranks, which equals the trapezoidal area under the ROC curve
/// that scikit-learn's <c>roc_auc_score</c> computes (ties included).
/// </summary>
public static class RocAuc
{
    /// <summary>
    /// The AUC of <paramref name="scores"/> (higher means more likely positive) for rows whose
    /// truth is <paramref name="positive"/>. Rows with a non-finite score are left out. Null when
    /// the remaining rows lack either class: the area is then undefined (scikit-learn raises).
    /// </summary>
    public static double? Compute(ReadOnlySpan<double> scores, ReadOnlySpan<bool> positive)
    {
        if (scores.Length != positive.Length)
        {
            throw new ArgumentException($"scores and truths differ in length ({scores.Length} and {positive.Length})", nameof(positive));
        }

        var rows = new List<(double Score, bool Positive)>(scores.Length);
        for (var i = 0; i < scores.Length; i++)
        {
            if (double.IsFinite(scores[i]))
            {
                rows.Add((scores[i], positive[i]));
            }
        }

        rows.Sort((a, b) => a.Score.CompareTo(b.Score));
        long positives = 0;
        double positiveRankSum = 0;
        for (var start = 0; start < rows.Count;)
        {
            // Rows start..end-1 tie: each gets the mean of ranks start+1..end.
            var end = start;
            while (end < rows.Count && rows[end].Score == rows[start].Score)
            {
                end++;
            }

            var midRank = (start + 1 + end) / 2.0;
            for (var i = start; i < end; i++)
            {
                if (rows[i].Positive)
                {
                    positives++;
                    positiveRankSum += midRank;
                }
            }

            start = end;
        }

        var negatives = rows.Count - positives;
        if (positives == 0 || negatives == 0)
        {
            return null;
        }

        return (positiveRankSum - (positives * (positives + 1) / 2.0)) / (positives * (double)negatives);
    }
}
