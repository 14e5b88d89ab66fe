using System.Collections.Immutable;
using System.Text.Json;

namespace Mlops.Stream.Inference.Wire;

/// <summary>
/// A named, typed tensor held as one flat row-major array. This is the only tensor type that
/// crosses module boundaries: the codec decodes into it, the model runs on it, so callers never
/// see ONNX Runtime types. A tensor owns the array it was created with; callers must not mutate
/// that array afterwards (tensors are shared between the batcher, the served-event log and the
/// response writer without copying).
/// </summary>
public sealed class Tensor
{
    private readonly Array _data;

    private Tensor(string name, TensorDataType dataType, ImmutableArray<long> shape, Array data)
    {
        Name = name;
        DataType = dataType;
        Shape = shape;
        _data = data;
    }

    public string Name { get; }

    public TensorDataType DataType { get; }

    /// <summary>Dimensions, outermost first. Axis 0 is the batch (row) axis for batched models.</summary>
    public ImmutableArray<long> Shape { get; }

    /// <summary>Optional per-tensor v2 "parameters", passed through unchanged.</summary>
    public IReadOnlyDictionary<string, JsonElement>? Parameters { get; init; }

    public int ElementCount => _data.Length;

    /// <summary>Rows along the batch axis; a scalar counts as one row.</summary>
    public long Rows => Shape.IsEmpty ? 1 : Shape[0];

    /// <summary>The underlying array (float[], double[], int[], long[] or bool[]).</summary>
    internal Array RawData => _data;

    /// <summary>
    /// Wraps <paramref name="data"/> (not copied) as a tensor of the given shape.
    /// Throws when a dimension is negative or the element count does not match the shape.
    /// </summary>
    public static Tensor Create<T>(string name, T[] data, params ReadOnlySpan<long> shape) where T : unmanaged
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        ArgumentNullException.ThrowIfNull(data);
        var count = ElementCountOf(shape);
        if (count != data.Length)
        {
            throw new ArgumentException(
                $"tensor '{name}': shape {FormatShape(shape)} needs {count} elements but {data.Length} were given",
                nameof(data));
        }

        return new Tensor(name, TensorDataTypes.Of<T>(), [.. shape], data);
    }

    /// <summary>The elements as a span; throws when <typeparamref name="T"/> is not this tensor's element type.</summary>
    public ReadOnlySpan<T> Span<T>() where T : unmanaged
    {
        if (_data is T[] typed)
        {
            return typed;
        }

        throw new InvalidOperationException(
            $"tensor '{Name}' holds {DataType.ToWireName()} elements, not {typeof(T).Name}");
    }

    /// <summary>Same data and shape under another name (no copy).</summary>
    public Tensor WithName(string name) => new(name, DataType, Shape, _data) { Parameters = Parameters };

    /// <summary>Same data and shape with other v2 parameters (no copy).</summary>
    public Tensor WithParameters(IReadOnlyDictionary<string, JsonElement>? parameters) =>
        new(Name, DataType, Shape, _data) { Parameters = parameters };

    /// <summary>Rows [<paramref name="start"/>, <paramref name="start"/> + <paramref name="count"/>) along axis 0, copied into a tensor of their own.</summary>
    public Tensor SliceRows(long start, long count)
    {
        if (Shape.IsEmpty || start < 0 || count < 0 || start + count > Rows)
        {
            throw new ArgumentOutOfRangeException(nameof(start), $"rows {start}..{start + count} are not all in tensor '{Name}' {FormatShape(Shape.AsSpan())}");
        }

        var rowSize = Rows == 0 ? 0 : _data.Length / Rows;
        var data = Array.CreateInstance(_data.GetType().GetElementType()!, checked((int)(count * rowSize)));
        Array.Copy(_data, start * rowSize, data, 0, data.Length);
        return new Tensor(Name, DataType, Shape.SetItem(0, count), data) { Parameters = Parameters };
    }

    /// <summary>Tensors of one name, type and row shape stacked along axis 0, in order (copied).</summary>
    public static Tensor ConcatRows(IReadOnlyList<Tensor> parts)
    {
        ArgumentOutOfRangeException.ThrowIfZero(parts.Count);
        var first = parts[0];
        long rows = 0;
        foreach (var part in parts)
        {
            if (part.DataType != first.DataType || part.Shape.Length != first.Shape.Length || part.Shape.IsEmpty
                || !part.Shape.AsSpan()[1..].SequenceEqual(first.Shape.AsSpan()[1..]))
            {
                throw new ArgumentException($"tensor '{part}' cannot be stacked under '{first}'", nameof(parts));
            }

            rows += part.Rows;
        }

        var data = Array.CreateInstance(first._data.GetType().GetElementType()!, parts.Sum(p => p.ElementCount));
        var offset = 0;
        foreach (var part in parts)
        {
            Array.Copy(part._data, 0, data, offset, part._data.Length);
            offset += part._data.Length;
        }

        return new Tensor(first.Name, first.DataType, first.Shape.SetItem(0, rows), data) { Parameters = first.Parameters };
    }

    /// <summary>Product of the dimensions; throws on a negative dimension or overflow.</summary>
    public static long ElementCountOf(ReadOnlySpan<long> shape)
    {
        long count = 1;
        foreach (var dim in shape)
        {
            if (dim < 0)
            {
                throw new ArgumentException($"shape {FormatShape(shape)} has a negative dimension", nameof(shape));
            }

            count = checked(count * dim);
        }

        return count;
    }

    /// <summary>Formats a shape as the v2 JSON array would show it, e.g. "[-1,30]".</summary>
    public static string FormatShape(ReadOnlySpan<long> shape) => "[" + string.Join(",", shape.ToArray()) + "]";

    public override string ToString() => $"{Name} {DataType.ToWireName()} {FormatShape(Shape.AsSpan())}";
}
