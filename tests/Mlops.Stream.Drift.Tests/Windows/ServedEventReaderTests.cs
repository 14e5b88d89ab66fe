using System.Collections.Immutable;
using Mlops.Stream.Drift.Windows;
using Mlops.Stream.Inference.Registry;
using Mlops.Stream.Inference.Wire;
using static Mlops.Stream.Drift.Tests.Windows.ServedEvents;

namespace Mlops.Stream.Drift.Tests.Windows;

/// <summary>Reading served events and laying their inputs out as the reference's features.</summary>
public sealed class ServedEventReaderTests
{
    [Fact]
    public void An_event_is_read_with_the_served_records_partition_and_offset()
    {
        var body = Event([[1.5, 2], [3, double.NaN], [5, double.PositiveInfinity]], T0.AddMilliseconds(250), version: 2, id: "req-9");

        Assert.True(ServedEventReader.TryRead(body, 4, 77, out var served, out var failure), failure?.Detail);

        Assert.Equal(("req-9", Model, 2, T0.AddMilliseconds(250), 4, 77L), (served.Id, served.Model, served.Version, served.ServedAt, served.Partition, served.Offset));
        var input = Assert.Single(served.Inputs);
        Assert.Equal("features", input.Name);
        Assert.Equal([3L, 2L], input.Shape.ToArray());
        Assert.Equal([1.5, 2, 3, double.NaN, 5, double.PositiveInfinity], input.Values);
    }

    [Fact]
    public void Fp32_values_are_the_floats_the_model_saw()
    {
        var body = Event([[0.1, 0.2]], T0);

        Assert.True(ServedEventReader.TryRead(body, 0, 0, out var served, out _));

        Assert.Equal([(double)0.1f, (double)0.2f], served.Inputs[0].Values);
    }

    [Fact]
    public void Rows_of_a_matrix_follow_the_reference_features_by_column_name()
    {
        // The manifest's columns are (hour, amount); its profile lists amount first.
        var reference = VersionReference.FromManifest(Manifest(featureNames: ["hour", "amount"], profiled: ["amount", "hour"]));
        var body = Event([[9, 100], [23, 250]], T0);
        Assert.True(ServedEventReader.TryRead(body, 0, 0, out var served, out _));

        Assert.True(FeatureRows.TryFrom(served, reference, out var rows, out var failure), failure?.Detail);

        Assert.Equal(["amount", "hour"], reference.Features.Select(f => f.Feature));
        Assert.Equal(2, rows.Rows);
        Assert.Equal([100, 9, 250, 23], rows.Values);
    }

    [Fact]
    public void A_matrix_whose_columns_lack_a_feature_is_a_shape_mismatch_and_a_changed_reference_is_mapped_anew()
    {
        var good = VersionReference.FromManifest(Manifest(featureNames: ["hour", "amount"], profiled: ["amount", "hour"]));
        Assert.True(ServedEventReader.TryRead(Event([[9, 100]], T0), 0, 0, out var served, out _));
        Assert.True(FeatureRows.TryFrom(served, good, out var rows, out _));
        Assert.Equal([100, 9], rows.Values);

        // The same features, but the input's columns name "minute" where "hour" was: the columns
        // are mapped for this reference, not taken from the one above.
        var lacking = good with { Columns = ["minute", "amount"] };
        for (var twice = 0; twice < 2; twice++)
        {
            Assert.False(FeatureRows.TryFrom(served, lacking, out _, out var failure));
            Assert.Equal(ServedEventFailureReason.ShapeMismatch, failure.Reason);
            Assert.Contains("feature 'hour' is not among the input's columns", failure.Detail);
        }

        // And a reference whose columns are in the other order lays the same event out the other way.
        var swapped = good with { Columns = ["amount", "hour"] };
        Assert.True(FeatureRows.TryFrom(served, swapped, out var swappedRows, out _));
        Assert.Equal([9, 100], swappedRows.Values);
    }

    [Fact]
    public void One_tensor_per_feature_is_laid_out_by_name()
    {
        var reference = Reference();
        var body = Write("r", Model, "1", T0, w =>
        {
            Tensor(w, "hour", "INT64", [2], [9, 23]);
            Tensor(w, "amount", "FP64", [2, 1], [100.25, 250.5]);
        });
        Assert.True(ServedEventReader.TryRead(body, 0, 0, out var served, out _));

        Assert.True(FeatureRows.TryFrom(served, reference, out var rows, out var failure), failure?.Detail);

        Assert.Equal(2, rows.Rows);
        Assert.Equal([100.25, 9, 250.5, 23], rows.Values);
    }

    [Fact]
    public void Tensors_that_do_not_lay_out_the_features_are_a_shape_mismatch()
    {
        var reference = Reference();
        var body = Write("r", Model, "1", T0, w =>
        {
            Tensor(w, "hour", "FP32", [2], [9, 23]);
            Tensor(w, "amount", "FP32", [1], [100]);
        });
        Assert.True(ServedEventReader.TryRead(body, 0, 0, out var served, out _));

        Assert.False(FeatureRows.TryFrom(served, reference, out _, out var failure));

        Assert.Equal(ServedEventFailureReason.ShapeMismatch, failure.Reason);
        Assert.Contains("rows", failure.Detail);
    }

    [Fact]
    public void Non_finite_inputs_are_read_and_counted_as_data_quality_not_refused()
    {
        var windows = new DriftWindows(Model, Versions, new WindowOptions { MaxEvents = 4 });
        windows.Add(Event([50, double.NaN], T0), 0, 0);
        windows.Add(Event([50, 12], T0), 0, 1);
        windows.Add(Event([50, 12], T0), 0, 2);

        var window = Assert.Single(windows.Add(Event([1e6, 12], T0), 0, 3).Closed);

        Assert.Equal((0.0, 0.25), (window.Features[0].Quality.NonFiniteShare, window.Features[0].Quality.OutOfRangeShare));
        Assert.Equal((0.25, 0.0), (window.Features[1].Quality.NonFiniteShare, window.Features[1].Quality.OutOfRangeShare));
    }

    private static ModelManifest Manifest(string[] featureNames, string[] profiled) => new()
    {
        Name = Model,
        Version = 3,
        Created = T0,
        Sha256 = new string('0', 64),
        Inputs = [new TensorSpec("features", TensorDataType.Fp32, [-1, featureNames.Length])],
        Outputs = [new TensorSpec("probabilities", TensorDataType.Fp32, [-1, 2])],
        FeatureNames = [.. featureNames],
        ReferenceProfile = [.. profiled.Select((name, i) => FeatureProfile.FromValues(name, Enumerable.Range(0, 100).Select(v => (double)(v * (i + 1))).ToArray()))],
    };
}
