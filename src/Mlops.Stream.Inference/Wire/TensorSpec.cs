using System.Collections.Immutable;
using System.Text.Json.Serialization;

namespace Mlops.Stream.Inference.Wire;

/// <summary>
/// One input or output of a model: name, element type and shape, where -1 marks a dimension of
/// any size (in practice axis 0, the batch axis). Equality compares the shape element-wise.
/// </summary>
public sealed record TensorSpec(string Name, [property: JsonPropertyName("datatype")] TensorDataType DataType, ImmutableArray<long> Shape)
{
    /// <summary>The marker for a dimension of any size.</summary>
    public const long DynamicDimension = -1;

    /// <summary>True when axis 0 accepts any size, so requests can be stacked along it.</summary>
    [JsonIgnore]
    public bool HasBatchAxis => !Shape.IsEmpty && Shape[0] == DynamicDimension;

    public bool Equals(TensorSpec? other) =>
        other is not null
        && Name == other.Name
        && DataType == other.DataType
        && Shape.AsSpan().SequenceEqual(other.Shape.AsSpan());

    public override int GetHashCode() => HashCode.Combine(Name, DataType, Shape.Length);

    /// <summary>True when a concrete shape fits this spec (same rank, fixed dimensions equal).</summary>
    public bool Accepts(ReadOnlySpan<long> shape)
    {
        if (shape.Length != Shape.Length)
        {
            return false;
        }

        for (var i = 0; i < shape.Length; i++)
        {
            if (Shape[i] != DynamicDimension && Shape[i] != shape[i])
            {
                return false;
            }
        }

        return true;
    }

    public override string ToString() => $"'{Name}' {DataType.ToWireName()} {Tensor.FormatShape(Shape.AsSpan())}";
}
