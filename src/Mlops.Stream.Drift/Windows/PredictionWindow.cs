using System.Collections.Immutable;
using Mlops.Stream.Inference.Registry;

namespace Mlops.Stream.Drift.Windows;

/// <summary>
/// One version's window's predictions while it fills: each class probability as a column, and the
/// predicted class. The first event with predictions fixes the layout (class count, probabilities
/// or not); an event laid out otherwise is left out of prediction drift. Bounded like the features:
/// at most the window's rows.
/// </summary>
internal sealed class PredictionWindow
{
    private string? _probabilityOutput;
    private int _classes = -1;
    private List<double>[] _probabilities = [];
    private readonly List<double> _predicted = [];

    public int Rows => _predicted.Count;

    /// <summary>Classes of the window's predictions; 0 when unknown or no prediction came.</summary>
    public int Classes => Math.Max(_classes, 0);

    public void Add(PredictionRows rows)
    {
        if (_classes < 0)
        {
            _classes = rows.Classes;
            _probabilityOutput = rows.ProbabilityOutput;
            _probabilities = [.. Enumerable.Range(0, rows.Probabilities is null ? 0 : _classes).Select(_ => new List<double>())];
        }
        else if (rows.Classes != _classes || (rows.Probabilities is null) != (_probabilities.Length == 0))
        {
            return;
        }

        for (var r = 0; r < rows.Rows; r++)
        {
            _predicted.Add(rows.Predicted[r]);
            for (var c = 0; c < _probabilities.Length; c++)
            {
                _probabilities[c].Add(rows.Probabilities![(r * _classes) + c]);
            }
        }
    }

    /// <summary>
    /// Judges the window's predictions against <paramref name="version"/>'s baseline, or makes them
    /// the baseline when it has none; then empties the window. Null when no event had predictions.
    /// </summary>
    public PredictionDrift? Close(int version, DateTimeOffset start, DateTimeOffset end, PredictionBaselines baselines, ImmutableArray<string> classNames, DriftOptions options)
    {
        try
        {
            if (Rows == 0)
            {
                return null;
            }

            var names = Enumerable.Range(0, _probabilities.Length).Select(c => OutputName(c, classNames)).ToArray();
            if (baselines.Get(version) is not { } baseline)
            {
                var kept = baselines.Offer(version, Baseline(start, end, names));
                return new PredictionDrift(PredictionReference.BaselineWindow, true, kept.Start, kept.End, kept.Rows, Rows, DriftVerdict.NotEvaluated, []);
            }

            var outputs = ImmutableArray.CreateBuilder<FeatureDrift>();
            for (var c = 0; c < _probabilities.Length && c < baseline.Probabilities.Length; c++)
            {
                if (baseline.Probabilities[c] is { } reference)
                {
                    outputs.Add(FeatureDrift.Evaluate(reference, [.. _probabilities[c]], options));
                }
            }

            // Jensen-Shannon over the class shares whatever the automatic choice would say: a class is a category.
            var byShares = options with { Methods = options.Methods.SetItem(PredictionDrift.PredictedClass, DriftMethod.JensenShannon) };
            outputs.Add(FeatureDrift.Evaluate(baseline.PredictedClass, [.. _predicted], byShares));
            var verdict = outputs.Any(o => o.Drifted) ? DriftVerdict.Drifted
                : outputs.All(o => o.Verdict == DriftVerdict.NotEvaluated) ? DriftVerdict.NotEvaluated : DriftVerdict.Stable;
            return new PredictionDrift(PredictionReference.BaselineWindow, false, baseline.Start, baseline.End, baseline.Rows, Rows, verdict, outputs.ToImmutable());
        }
        finally
        {
            _classes = -1;
            _probabilityOutput = null;
            _probabilities = [];
            _predicted.Clear();
        }
    }

    private PredictionBaseline Baseline(DateTimeOffset start, DateTimeOffset end, string[] names)
    {
        var probabilities = _probabilities.Select((column, c) =>
        {
            var finite = column.Where(double.IsFinite).ToArray();
            return finite.Length == 0 ? null : new FeatureReference(FeatureProfile.FromValues(names[c], finite));
        }).ToImmutableArray();
        var predicted = _predicted.ToArray();
        return new PredictionBaseline(start, end, Rows, probabilities,
            new FeatureReference(FeatureProfile.FromValues(PredictionDrift.PredictedClass, predicted, bins: Math.Max(Classes, 10)), predicted));
    }

    /// <summary><c>probabilities[fraud]</c>: the output and the class's manifest label (its index when unnamed).</summary>
    private string OutputName(int c, ImmutableArray<string> classNames) =>
        $"{_probabilityOutput}[{(c < classNames.Length ? classNames[c] : c.ToString(System.Globalization.CultureInfo.InvariantCulture))}]";
}
