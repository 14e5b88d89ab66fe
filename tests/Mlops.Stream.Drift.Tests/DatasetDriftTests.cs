namespace Mlops.Stream.Drift.Tests;

public sealed class DatasetDriftTests
{
    [Fact]
    public void Two_drifted_features_of_four_reach_the_default_half_and_the_dataset_drifts()
    {
        var dataset = DatasetDrift.Of(Verdicts(DriftVerdict.Drifted, DriftVerdict.Drifted, DriftVerdict.Stable, DriftVerdict.Stable), DriftOptions.Default);

        Assert.Equal(new DatasetDrift(4, 4, 2, 0.5, 0.5, DriftVerdict.Drifted), dataset);
        Assert.True(dataset.Drifted);
    }

    [Fact]
    public void One_drifted_feature_of_four_is_below_half_and_the_dataset_is_stable()
    {
        var dataset = DatasetDrift.Of(Verdicts(DriftVerdict.Drifted, DriftVerdict.Stable, DriftVerdict.Stable, DriftVerdict.Stable), DriftOptions.Default);

        Assert.Equal(new DatasetDrift(4, 4, 1, 0.25, 0.5, DriftVerdict.Stable), dataset);
    }

    [Fact]
    public void Features_not_evaluated_are_counted_apart_and_left_out_of_the_share()
    {
        var dataset = DatasetDrift.Of(
            Verdicts(DriftVerdict.Drifted, DriftVerdict.Stable, DriftVerdict.NotEvaluated, DriftVerdict.NotEvaluated), DriftOptions.Default);

        Assert.Equal(new DatasetDrift(4, 2, 1, 0.5, 0.5, DriftVerdict.Drifted), dataset);
    }

    [Fact]
    public void A_raised_threshold_needs_more_drifted_features()
    {
        var options = DriftOptions.Default with { DatasetDriftShare = 0.75 };

        var half = DatasetDrift.Of(Verdicts(DriftVerdict.Drifted, DriftVerdict.Drifted, DriftVerdict.Stable, DriftVerdict.Stable), options);
        var threeQuarters = DatasetDrift.Of(Verdicts(DriftVerdict.Drifted, DriftVerdict.Drifted, DriftVerdict.Drifted, DriftVerdict.Stable), options);

        Assert.Equal(DriftVerdict.Stable, half.Verdict);
        Assert.Equal(DriftVerdict.Drifted, threeQuarters.Verdict);
    }

    [Fact]
    public void A_window_where_no_feature_was_evaluated_has_no_dataset_verdict()
    {
        var none = DatasetDrift.Of(Verdicts(DriftVerdict.NotEvaluated, DriftVerdict.NotEvaluated), DriftOptions.Default);
        var empty = DatasetDrift.Of([], DriftOptions.Default);

        Assert.Equal((2, 0, DriftVerdict.NotEvaluated, false), (none.FeatureCount, none.EvaluatedCount, none.Verdict, none.Drifted));
        Assert.True(double.IsNaN(none.DriftedShare));
        Assert.Equal((0, DriftVerdict.NotEvaluated), (empty.FeatureCount, empty.Verdict));
    }

    private static FeatureDrift[] Verdicts(params DriftVerdict[] verdicts) =>
        verdicts.Select((verdict, i) => new FeatureDrift(
            $"f{i}",
            DriftMethod.Wasserstein,
            ReferenceKind.Sample,
            verdict == DriftVerdict.NotEvaluated ? double.NaN : 0.2,
            null,
            0.1,
            verdict,
            new DataQuality(10, 0, 0))).ToArray();
}
