using System.Collections.Immutable;
using System.Diagnostics.CodeAnalysis;
using System.Globalization;

namespace Mlops.Stream.Drift.Feedback;

/// <summary>
/// One value of a feedback record's "label" as the caller wrote it: a class index (a whole number,
/// or true/false for 1/0) or a class name, resolved against the model's classes only when the
/// label meets its served event (the version decides what the names mean).
/// </summary>
public readonly record struct LabelValue(int? Index, string? Name)
{
    public override string ToString() => Index?.ToString(CultureInfo.InvariantCulture) ?? $"\"{Name}\"";
}

/// <summary>
/// A feedback record: the ground truth of the served request <paramref name="Id"/>, one label per
/// row of its served event (a single label for the usual one-row request).
/// </summary>
/// <param name="Id">The request id the label is for (the served event's "id").</param>
/// <param name="Labels">One label per row of the event, as written.</param>
/// <param name="Partition">Partition of the feedback record.</param>
/// <param name="Offset">Offset of the feedback record.</param>
public sealed record FeedbackLabel(string Id, ImmutableArray<LabelValue> Labels, int Partition, long Offset)
{
    /// <summary>
    /// The class index of each row: an index must lie in [0, <paramref name="classes"/>) when the
    /// class count is known (<paramref name="classes"/> &gt; 0); a name must be one of
    /// <paramref name="classNames"/> (the manifest's labels, in probability-column order), or a
    /// decimal index. False (and a problem) when a label names no class or the count is not <paramref name="rows"/>.
    /// </summary>
    public bool TryResolve(int rows, int classes, ImmutableArray<string> classNames, [NotNullWhen(true)] out int[]? resolved, [NotNullWhen(false)] out string? problem)
    {
        resolved = null;
        if (Labels.Length != rows)
        {
            problem = $"{Labels.Length} label(s) for a served event of {rows} row(s)";
            return false;
        }

        var indices = new int[rows];
        for (var i = 0; i < rows; i++)
        {
            var label = Labels[i];
            int? index = label.Index;
            if (index is null && label.Name is { } name)
            {
                var named = classNames.IsDefault ? -1 : classNames.IndexOf(name, StringComparer.Ordinal);
                index = named >= 0 ? named
                    : int.TryParse(name, NumberStyles.None, CultureInfo.InvariantCulture, out var parsed) ? parsed : null;
            }

            if (index is not { } value || value < 0 || (classes > 0 && value >= classes))
            {
                var known = classNames.IsDefaultOrEmpty ? "" : $" or one of {string.Join(", ", classNames)}";
                problem = $"label {label} is no class of the model (an index 0..{(classes > 0 ? classes - 1 : "n")}{known})";
                return false;
            }

            indices[i] = value;
        }

        resolved = indices;
        problem = null;
        return true;
    }
}
