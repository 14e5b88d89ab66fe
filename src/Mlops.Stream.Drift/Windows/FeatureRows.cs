using System.Diagnostics.CodeAnalysis;
using System.Runtime.CompilerServices;

namespace Mlops.Stream.Drift.Windows;

/// <summary>
/// A served event's inputs as rows of feature values, one value per reference feature in the
/// reference's order, so a window can append them column by column. Two layouts are understood:
/// <list type="bullet">
/// <item>one [rows, columns] tensor whose columns are <see cref="VersionReference.Columns"/> (the
/// demo model's "features" input);</item>
/// <item>one tensor per feature, named like it, of shape [rows] or [rows, 1].</item>
/// </list>
/// Anything else is a <see cref="ServedEventFailureReason.ShapeMismatch"/>: guessing a layout
/// would compare the wrong columns and report drift that is not there.
/// </summary>
/// <param name="Rows">Rows in the event (its batch size).</param>
/// <param name="Values">Row-major [rows, features] values, features in the reference's order.</param>
public sealed record FeatureRows(int Rows, double[] Values)
{
    /// <summary>
    /// Each reference's column per feature (-1 where its columns lack one), found once per reference
    /// instead of by name for every event (30 features looked up among 30 names was the largest item
    /// of laying out an event). Keyed by the instance, so a reference changed by <c>with</c> is mapped anew.
    /// </summary>
    private static readonly ConditionalWeakTable<VersionReference, int[]> ColumnsOf = new();

    /// <summary>Lays out <paramref name="served"/>'s inputs for <paramref name="reference"/>'s features.</summary>
    public static bool TryFrom(
        ServedEvent served,
        VersionReference reference,
        [NotNullWhen(true)] out FeatureRows? rows,
        [NotNullWhen(false)] out ServedEventFailure? failure)
    {
        rows = null;
        failure = null;
        var features = reference.Features.Length;
        string? problem;
        if (served.Inputs.Length == 1 && served.Inputs[0].Shape is [var r, var c] && c == reference.Columns.Length)
        {
            problem = FromMatrix(served.Inputs[0], r, reference, out rows);
        }
        else
        {
            problem = FromNamedTensors(served, reference, out rows);
        }

        if (problem is null && rows!.Rows == 0)
        {
            problem = "the inputs have no rows";
            rows = null;
            failure = new ServedEventFailure(ServedEventFailureReason.NoInputs, problem, served.Partition, served.Offset);
            return false;
        }

        if (problem is not null)
        {
            failure = new ServedEventFailure(
                ServedEventFailureReason.ShapeMismatch,
                $"{problem} (expected one [rows, {reference.Columns.Length}] tensor or one tensor per feature of {features})",
                served.Partition,
                served.Offset);
            return false;
        }

        return rows is not null;
    }

    private static string? FromMatrix(ServedTensor tensor, long rowCount, VersionReference reference, out FeatureRows? rows)
    {
        rows = null;
        if (rowCount > int.MaxValue / Math.Max(1, reference.Features.Length))
        {
            return $"tensor '{tensor.Name}' has too many rows";
        }

        var columns = reference.Columns.Length;
        var features = reference.Features.Length;
        var columnOf = ColumnsOf.GetValue(reference, MapColumns);
        for (var f = 0; f < features; f++)
        {
            if (columnOf[f] < 0)
            {
                return $"feature '{reference.Features[f].Feature}' is not among the input's columns";
            }
        }

        var n = (int)rowCount;
        var values = new double[n * features];
        for (var row = 0; row < n; row++)
        {
            for (var f = 0; f < features; f++)
            {
                values[(row * features) + f] = tensor.Values[(row * columns) + columnOf[f]];
            }
        }

        rows = new FeatureRows(n, values);
        return null;
    }

    private static int[] MapColumns(VersionReference reference) =>
        [.. reference.Features.Select(feature => reference.Columns.IndexOf(feature.Feature))];

    private static string? FromNamedTensors(ServedEvent served, VersionReference reference, out FeatureRows? rows)
    {
        rows = null;
        var features = reference.Features.Length;
        var columns = new ServedTensor[features];
        long rowCount = -1;
        for (var f = 0; f < features; f++)
        {
            var feature = reference.Features[f].Feature;
            var tensor = served.Inputs.FirstOrDefault(t => t.Name == feature);
            if (tensor is null)
            {
                return served.Inputs.Length == 1
                    ? $"tensor '{served.Inputs[0].Name}' has shape [{string.Join(",", served.Inputs[0].Shape)}]"
                    : $"no tensor named '{feature}'";
            }

            if (tensor.Shape is not ([_] or [_, 1]))
            {
                return $"tensor '{feature}' has shape [{string.Join(",", tensor.Shape)}], not [rows] or [rows, 1]";
            }

            if (rowCount >= 0 && tensor.Shape[0] != rowCount)
            {
                return $"tensor '{feature}' has {tensor.Shape[0]} rows, others {rowCount}";
            }

            rowCount = tensor.Shape[0];
            columns[f] = tensor;
        }

        if (rowCount > int.MaxValue / Math.Max(1, features))
        {
            return "too many rows";
        }

        var n = (int)Math.Max(0, rowCount);
        var values = new double[n * features];
        for (var row = 0; row < n; row++)
        {
            for (var f = 0; f < features; f++)
            {
                values[(row * features) + f] = columns[f].Values[row];
            }
        }

        rows = new FeatureRows(n, values);
        return null;
    }
}
