using System.Collections.Immutable;

namespace Mlops.Stream.Demo;

/// <summary>Rows of card-transaction features (row-major, <see cref="FeatureCount"/> per row) with 0/1 fraud labels.</summary>
public sealed class FraudDataset(float[] features, int[] labels)
{
    public const int FeatureCount = 30;

    /// <summary>Column names in order: eleven named transaction features, then latent V1..V19.</summary>
    public static ImmutableArray<string> FeatureNames { get; } =
    [
        "amount",
        "hour",
        "merchant_risk",
        "distance_from_home_km",
        "distance_from_last_txn_km",
        "amount_to_median_ratio",
        "txn_count_24h",
        "card_present",
        "online",
        "foreign",
        "account_age_days",
        .. Enumerable.Range(1, FeatureCount - 11).Select(i => $"v{i}"),
    ];

    public float[] Features { get; } = features;

    public int[] Labels { get; } = labels;

    public int Rows => Labels.Length;

    public ReadOnlySpan<float> Row(int row) => Features.AsSpan(row * FeatureCount, FeatureCount);

    public double PositiveRate => Labels.Average();

    /// <summary>Rows [start, start+count) as a new dataset (copies).</summary>
    public FraudDataset Slice(int start, int count) =>
        new(Features.AsSpan(start * FeatureCount, count * FeatureCount).ToArray(), Labels.AsSpan(start, count).ToArray());

    /// <summary>All values of one column, for profiling.</summary>
    public double[] Column(int column)
    {
        var values = new double[Rows];
        for (var r = 0; r < Rows; r++)
        {
            values[r] = Features[r * FeatureCount + column];
        }

        return values;
    }
}
