namespace Mlops.Stream.Demo.Internal;

/// <summary>Area under the ROC curve by the rank-sum (Mann-Whitney U) formula, ties averaged.</summary>
internal static class RocAuc
{
    public static double Compute(ReadOnlySpan<float> scores, ReadOnlySpan<int> labels)
    {
        var order = Enumerable.Range(0, scores.Length).ToArray();
        var keys = scores.ToArray();
        Array.Sort(keys, order);
        double rankSumPositives = 0;
        long positives = 0;
        var i = 0;
        while (i < keys.Length)
        {
            var j = i;
            while (j + 1 < keys.Length && keys[j + 1] == keys[i])
            {
                j++;
            }

            var averageRank = (i + j) / 2.0 + 1;
            for (var k = i; k <= j; k++)
            {
                if (labels[order[k]] == 1)
                {
                    rankSumPositives += averageRank;
                    positives++;
                }
            }

            i = j + 1;
        }

        long negatives = scores.Length - positives;
        if (positives == 0 || negatives == 0)
        {
            throw new ArgumentException("AUC needs both classes present");
        }

        return (rankSumPositives - positives * (positives + 1) / 2.0) / (positives * (double)negatives);
    }
}
