using System.Text;
using System.Text.Json;
using Mlops.Stream.Drift.Feedback;
using Mlops.Stream.Drift.Performance;
using Mlops.Stream.Drift.Windows;
using static Mlops.Stream.Drift.Tests.Windows.ServedEvents;

namespace Mlops.Stream.Drift.Tests.Windows;

/// <summary>
/// What windows do with outputs and labels: the predictions read from a served event, labels
/// counted into the open window of their event's version (late ones into the next window),
/// performance per window, and prediction drift against the version's first window.
/// </summary>
public sealed class LabelsAndPredictionsTests
{
    private static readonly double[] Row = [50, 12];

    private static DriftWindows Windows(int maxEvents, int maxRows = 100_000, PredictionBaselines? baselines = null) =>
        new(Model, v => Reference(v) with { ClassLabels = ["legit", "fraud"] },
            new WindowOptions { MaxEvents = maxEvents, MaxSpan = TimeSpan.FromHours(1), MaxRows = maxRows }, baselines: baselines);

    private static FeedbackLabel Label(string id, int label) => new(id, [new LabelValue(label, null)], 0, 0);

    [Fact]
    public void A_served_event_gives_its_predicted_class_and_positive_probability()
    {
        var step = Windows(10).Add(Classified("r1", Row, 0.75, T0), 0, 0);

        var prediction = step.Prediction!;
        Assert.Equal(("r1", 1, 0L, 2), (prediction.Id, prediction.Version, prediction.Window, prediction.Classes));
        Assert.Equal([1], prediction.Predicted);
        Assert.Equal(0.75, prediction.PositiveScores[0], 1e-6);
    }

    [Fact]
    public void Without_a_label_output_the_most_probable_class_is_the_prediction_and_a_regressor_gives_none()
    {
        var reference = Reference() with { ClassLabels = [] };
        var probabilities = Read(Write("r", Model, "1", T0, w => Tensor(w, "features", "FP32", [2, 2], [50, 12, 50, 12]),
            w => Tensor(w, "probabilities", "FP32", [2, 3], [0.2, 0.5, 0.3, 0.6, 0.2, 0.2])));
        var rows = PredictionRows.From(probabilities, reference, 2)!;
        Assert.Equal((3, "probabilities"), (rows.Classes, rows.ProbabilityOutput));
        Assert.Equal([1, 0], rows.Predicted);
        Assert.All(rows.PositiveScores(), s => Assert.True(double.IsNaN(s)));   // not binary

        var regressor = Read(Write("r", Model, "1", T0, w => Tensor(w, "features", "FP32", [1, 2], [50, 12]),
            w => Tensor(w, "variable", "FP32", [1, 1], [3.25])));
        Assert.Null(PredictionRows.From(regressor, reference, 1));
    }

    [Fact]
    public void Labels_count_in_the_open_window_of_their_version_late_ones_in_the_next()
    {
        var windows = Windows(maxEvents: 4);
        double[] positives = [0.9, 0.2, 0.7, 0.4];   // predicted 1, 0, 1, 0
        var predictions = new List<ServedPrediction>();
        var closed = new List<DriftWindowReport>();
        for (var i = 0; i < 4; i++)
        {
            var step = windows.Add(Classified($"r{i}", Row, positives[i], T0.AddSeconds(i)), 0, i);
            predictions.Add(step.Prediction!);
            closed.AddRange(step.Closed);
            if (i == 1) Assert.Null(windows.AddLabel(predictions[0], Label("r0", 1)));   // while its window is open
        }

        var first = Assert.Single(closed);
        Assert.Equal((1, 0, 1.0), (first.Performance!.Labelled, first.Performance.Late, first.Performance.Accuracy!.Value));

        // After the window closed: counted into the version's next window, as late (all three events were in the first).
        Assert.Null(windows.AddLabel(predictions[1], Label("r1", 1)));
        Assert.Null(windows.AddLabel(predictions[2], Label("r2", 1)));
        Assert.Null(windows.AddLabel(predictions[3], Label("r3", 0)));
        var bad = windows.AddLabel(predictions[3], Label("r3", 5));
        Assert.Equal(FeedbackFailureReason.BadLabel, bad!.Reason);
        var second = Enumerable.Range(4, 4).SelectMany(i => windows.Add(Classified($"r{i}", Row, positives[i - 4], T0.AddSeconds(i)), 0, i).Closed).Single();

        // By hand over (actual, predicted, p): (1,0,0.2) (1,1,0.7) (0,0,0.4): accuracy 2/3, precision 1/1, recall 1/2,
        // AUC: of the positive-negative pairs (0.2 vs 0.4) and (0.7 vs 0.4) one is ranked right: 0.5.
        var performance = second.Performance!;
        Assert.Equal((3, 3, PerformanceAverage.Binary, (int?)1), (performance.Labelled, performance.Late, performance.Average, performance.PositiveClass));
        Assert.Equal(2.0 / 3, performance.Accuracy!.Value, 1e-12);
        Assert.Equal((1.0, 0.5, 0.5), (performance.Precision!.Value, performance.Recall!.Value, performance.RocAuc!.Value));
    }

    [Fact]
    public void A_window_holds_at_most_its_row_limit_of_labelled_rows()
    {
        var windows = Windows(maxEvents: 10, maxRows: 2);
        var a = windows.Add(Classified("a", Row, 0.9, T0), 0, 0).Prediction!;
        var b = windows.Add(Classified("b", Row, 0.9, T0), 0, 1).Prediction!;
        var c = windows.Add(Classified("c", Row, 0.9, T0), 0, 2);   // closes a and b's window by rows
        Assert.Single(c.Closed);

        Assert.Null(windows.AddLabel(a, Label("a", 1)));
        Assert.Null(windows.AddLabel(b, Label("b", 1)));
        Assert.Equal(FeedbackFailureReason.WindowFull, windows.AddLabel(c.Prediction!, Label("c", 1))!.Reason);
    }

    [Fact]
    public void The_first_window_is_the_prediction_baseline_and_shifted_outputs_drift_against_it()
    {
        var baselines = new PredictionBaselines();
        var windows = Windows(maxEvents: 1000, baselines: baselines);
        var random = new Random(5);
        List<DriftWindowReport> Serve(Func<double> positive, int from) =>
            [.. Enumerable.Range(from, 1000).SelectMany(i => windows.Add(Classified($"r{i}", Row, positive(), T0.AddSeconds(i)), 0, i).Closed)];

        var baseline = Serve(() => random.NextDouble() * 0.6, 0).Single().PredictionDrift!;
        Assert.Equal((PredictionReference.BaselineWindow, true, 1000, DriftVerdict.NotEvaluated), (baseline.Reference, baseline.IsBaseline, baseline.Rows, baseline.Verdict));
        Assert.Empty(baseline.Outputs);

        var alike = Serve(() => random.NextDouble() * 0.6, 1000).Single().PredictionDrift!;
        Assert.False(alike.IsBaseline);
        Assert.Equal((T0, T0.AddSeconds(999), 1000), (alike.BaselineStart, alike.BaselineEnd, alike.BaselineRows));
        Assert.Equal(["probabilities[legit]", "probabilities[fraud]", PredictionDrift.PredictedClass], alike.Outputs.Select(o => o.Feature));
        Assert.Equal([DriftMethod.PopulationStabilityIndex, DriftMethod.PopulationStabilityIndex, DriftMethod.JensenShannon], alike.Outputs.Select(o => o.Method));
        Assert.Equal(DriftVerdict.Stable, alike.Verdict);

        var shifted = Serve(() => 0.4 + (random.NextDouble() * 0.6), 2000).Single().PredictionDrift!;
        Assert.Equal(DriftVerdict.Drifted, shifted.Verdict);
        Assert.All(shifted.Outputs, o => Assert.Equal(DriftVerdict.Drifted, o.Verdict));
        Assert.Same(baselines.Get(1), baselines.Get(1));
        Assert.Equal(T0, baselines.Get(1)!.Start);
    }

    [Fact]
    public void The_record_carries_performance_and_prediction_drift_in_snake_case()
    {
        var windows = Windows(maxEvents: 1);
        var step = windows.Add(Classified("a", Row, 0.9, T0), 0, 0);

        var json = JsonDocument.Parse(Encoding.UTF8.GetString(DriftWindowJson.Serialize(step.Closed.Single()))).RootElement;

        var performance = json.GetProperty("performance");
        Assert.Equal((0, "binary", 1), (performance.GetProperty("labelled").GetInt32(), performance.GetProperty("average").GetString(), performance.GetProperty("positive_class").GetInt32()));
        Assert.Equal(JsonValueKind.Null, performance.GetProperty("accuracy").ValueKind);
        var predictions = json.GetProperty("prediction_drift");
        Assert.Equal(("baseline_window", true), (predictions.GetProperty("reference").GetString(), predictions.GetProperty("is_baseline").GetBoolean()));
        Assert.Equal(step.Closed.Single().Performance, DriftWindowJson.Deserialize(DriftWindowJson.Serialize(step.Closed.Single())).Performance);
    }

    private static ServedEvent Read(byte[] bytes)
    {
        Assert.True(ServedEventReader.TryRead(bytes, 0, 0, out var served, out var failure), failure?.Detail);
        return served;
    }
}
