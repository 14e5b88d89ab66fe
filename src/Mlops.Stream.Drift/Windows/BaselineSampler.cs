using System.Collections.Immutable;
using Mlops.Stream.Inference.Registry;

namespace Mlops.Stream.Drift.Windows;

/// <summary>
/// Turns a past window of served traffic into a reference sample (<c>mlops drift baseline</c>):
/// served events of the model are read, their inputs laid out in the version's columns, and every
/// row is offered to a reservoir of at most <see cref="Capacity"/> rows (Vitter's algorithm R), so
/// any length of window gives a uniform sample in bounded memory. Events that cannot be read, of
/// another model, or whose inputs do not fit the columns are counted by kind and left out; rows
/// holding a non-finite value are left out (a reference sample holds finite values only).
/// Not thread-safe: one scan feeds it.
/// </summary>
public sealed class BaselineSampler
{
    private readonly string _model;
    private readonly VersionReference _layout;
    private readonly double[][] _columns;
    private readonly Random _random;
    private readonly Dictionary<string, int> _skipped = new(StringComparer.Ordinal);

    /// <param name="model">The model whose events are taken; others are skipped as <c>wrong_model</c>.</param>
    /// <param name="columns">The version's feature names in input column order: the sample's header.</param>
    /// <param name="capacity">The most rows kept (1 to <see cref="ReferenceSample.MaxRows"/>).</param>
    /// <param name="seed">Seeds the reservoir's choices, so a scan of the same events keeps the same rows.</param>
    public BaselineSampler(string model, IReadOnlyList<string> columns, int capacity, int seed = 11)
    {
        ArgumentException.ThrowIfNullOrEmpty(model);
        ArgumentNullException.ThrowIfNull(columns);
        ArgumentOutOfRangeException.ThrowIfLessThan(columns.Count, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(capacity, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(capacity, ReferenceSample.MaxRows);
        _model = model;
        Capacity = capacity;
        // FeatureRows lays inputs out by feature name only; the profiles are never read here.
        var names = columns.ToImmutableArray();
        _layout = new VersionReference(0, [.. names.Select(n => new FeatureReference(new FeatureProfile(n, [0, 1], [0], 0, 0, 0)))], names);
        _columns = [.. names.Select(_ => new double[capacity])];
        _random = new Random(seed);
    }

    public int Capacity { get; }

    /// <summary>Served events whose rows were offered to the reservoir.</summary>
    public long Events { get; private set; }

    /// <summary>Finite rows offered (the reservoir keeps the first <see cref="Capacity"/>, then replaces at random).</summary>
    public long RowsSeen { get; private set; }

    /// <summary>Rows in the reservoir now.</summary>
    public int Rows => (int)Math.Min(RowsSeen, Capacity);

    /// <summary>Events and rows left out, by kind (<c>unreadable</c>, <c>wrong_model</c>, <c>shape_mismatch</c>, <c>non_finite_row</c>, ...).</summary>
    public IReadOnlyDictionary<string, int> Skipped => _skipped;

    /// <summary>Offers one served-events record's rows to the reservoir.</summary>
    public void Add(ReadOnlySpan<byte> value, int partition, long offset)
    {
        if (!ServedEventReader.TryRead(value, partition, offset, out var served, out var failure))
        {
            Skip(failure.Code);
            return;
        }

        if (served.Model != _model)
        {
            Skip("wrong_model");
            return;
        }

        if (!FeatureRows.TryFrom(served, _layout, out var rows, out failure))
        {
            Skip(failure.Code);
            return;
        }

        Events++;
        var features = _columns.Length;
        for (var row = 0; row < rows.Rows; row++)
        {
            var values = rows.Values.AsSpan(row * features, features);
            if (!AllFinite(values))
            {
                Skip("non_finite_row");
                continue;
            }

            // Algorithm R: the n-th row replaces a kept one with probability capacity / n.
            var slot = RowsSeen < Capacity ? (int)RowsSeen : _random.NextInt64(RowsSeen + 1);
            RowsSeen++;
            if (slot >= Capacity) continue;
            for (var f = 0; f < features; f++) _columns[f][slot] = values[f];
        }
    }

    /// <summary>The reservoir as a reference sample; null when it holds no row.</summary>
    public ReferenceSample? ToSample() =>
        Rows == 0 ? null : ReferenceSample.Of(_layout.Columns, [.. _columns.Select(c => c[..Rows])]);

    private static bool AllFinite(ReadOnlySpan<double> values)
    {
        foreach (var v in values)
        {
            if (!double.IsFinite(v)) return false;
        }

        return true;
    }

    private void Skip(string kind) => _skipped[kind] = _skipped.GetValueOrDefault(kind) + 1;
}
