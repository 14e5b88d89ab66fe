using System.Collections.Immutable;

namespace Mlops.Stream.Inference.Wire;

/// <summary>The inputs and outputs a model version accepts and produces, in model order.</summary>
public sealed record ModelSignature(ImmutableArray<TensorSpec> Inputs, ImmutableArray<TensorSpec> Outputs)
{
    public TensorSpec? FindInput(string name) => Find(Inputs, name);

    public TensorSpec? FindOutput(string name) => Find(Outputs, name);

    /// <summary>
    /// True when every input and output has a leading batch axis, so N requests can be stacked
    /// into one tensor per input and the outputs split back by row.
    /// </summary>
    public bool IsBatchable => Inputs.All(s => s.HasBatchAxis) && Outputs.All(s => s.HasBatchAxis);

    public bool Equals(ModelSignature? other) => other is not null && Differences(other).Count == 0;

    public override int GetHashCode() => HashCode.Combine(Inputs.Length, Outputs.Length);

    /// <summary>
    /// Human-readable differences between this signature (the expected one) and <paramref name="actual"/>,
    /// e.g. "input 'features': expected FP32 [-1,30], found FP32 [-1,29]". Empty when they match.
    /// </summary>
    public IReadOnlyList<string> Differences(ModelSignature actual)
    {
        var differences = new List<string>();
        Compare("input", Inputs, actual.Inputs, differences);
        Compare("output", Outputs, actual.Outputs, differences);
        return differences;
    }

    public override string ToString() =>
        $"inputs [{string.Join(", ", Inputs)}], outputs [{string.Join(", ", Outputs)}]";

    private static void Compare(string role, ImmutableArray<TensorSpec> expected, ImmutableArray<TensorSpec> actual, List<string> differences)
    {
        foreach (var spec in expected)
        {
            var match = Find(actual, spec.Name);
            if (match is null)
            {
                var names = actual.Length == 0 ? "none" : string.Join(", ", actual.Select(a => $"'{a.Name}'"));
                differences.Add($"{role} '{spec.Name}' is missing (found {names})");
            }
            else if (!spec.Equals(match))
            {
                differences.Add(
                    $"{role} '{spec.Name}': expected {spec.DataType.ToWireName()} {Tensor.FormatShape(spec.Shape.AsSpan())}, " +
                    $"found {match.DataType.ToWireName()} {Tensor.FormatShape(match.Shape.AsSpan())}");
            }
        }

        foreach (var spec in actual)
        {
            if (Find(expected, spec.Name) is null)
            {
                differences.Add($"unexpected {role} {spec}");
            }
        }
    }

    private static TensorSpec? Find(ImmutableArray<TensorSpec> specs, string name)
    {
        foreach (var spec in specs)
        {
            if (spec.Name == name)
            {
                return spec;
            }
        }

        return null;
    }
}
