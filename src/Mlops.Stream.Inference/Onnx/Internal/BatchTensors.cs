using System.Collections.Immutable;
using Microsoft.ML.OnnxRuntime;
using Mlops.Stream.Inference.Wire;

namespace Mlops.Stream.Inference.Onnx.Internal;

/// <summary>
/// Moves data between our tensors and ONNX Runtime values: stacks the same input of N requests
/// along axis 0 into one OrtValue, and splits an output back into per-request tensors by rows.
/// </summary>
internal static class BatchTensors
{
    /// <summary>One OrtValue over the concatenated rows of <paramref name="parts"/> (all validated against the same spec).</summary>
    public static OrtValue Stack(IReadOnlyList<Tensor> parts, long totalRows) => parts[0].DataType switch
    {
        TensorDataType.Fp32 => Stack<float>(parts, totalRows),
        TensorDataType.Fp64 => Stack<double>(parts, totalRows),
        TensorDataType.Int32 => Stack<int>(parts, totalRows),
        TensorDataType.Int64 => Stack<long>(parts, totalRows),
        TensorDataType.Bool => Stack<bool>(parts, totalRows),
        _ => throw new ArgumentOutOfRangeException(nameof(parts), parts[0].DataType, "unknown tensor data type"),
    };

    /// <summary>Wraps one tensor without copying (ONNX Runtime pins the array and never writes inputs).</summary>
    public static OrtValue Wrap(Tensor tensor) => tensor.DataType switch
    {
        TensorDataType.Fp32 => Wrap<float>(tensor),
        TensorDataType.Fp64 => Wrap<double>(tensor),
        TensorDataType.Int32 => Wrap<int>(tensor),
        TensorDataType.Int64 => Wrap<long>(tensor),
        TensorDataType.Bool => Wrap<bool>(tensor),
        _ => throw new ArgumentOutOfRangeException(nameof(tensor), tensor.DataType, "unknown tensor data type"),
    };

    /// <summary>Splits an output along axis 0 into pieces of <paramref name="rowCounts"/> rows.</summary>
    public static Tensor[] Split(OrtValue value, string name, TensorDataType type, ReadOnlySpan<long> rowCounts) => type switch
    {
        TensorDataType.Fp32 => Split<float>(value, name, rowCounts),
        TensorDataType.Fp64 => Split<double>(value, name, rowCounts),
        TensorDataType.Int32 => Split<int>(value, name, rowCounts),
        TensorDataType.Int64 => Split<long>(value, name, rowCounts),
        TensorDataType.Bool => Split<bool>(value, name, rowCounts),
        _ => throw new ArgumentOutOfRangeException(nameof(type), type, "unknown tensor data type"),
    };

    /// <summary>Copies a whole output into one tensor (models without a batch axis).</summary>
    public static Tensor Copy(OrtValue value, string name, TensorDataType type) => type switch
    {
        TensorDataType.Fp32 => Copy<float>(value, name),
        TensorDataType.Fp64 => Copy<double>(value, name),
        TensorDataType.Int32 => Copy<int>(value, name),
        TensorDataType.Int64 => Copy<long>(value, name),
        TensorDataType.Bool => Copy<bool>(value, name),
        _ => throw new ArgumentOutOfRangeException(nameof(type), type, "unknown tensor data type"),
    };

    private static OrtValue Stack<T>(IReadOnlyList<Tensor> parts, long totalRows) where T : unmanaged
    {
        var first = parts[0];
        var rowSize = first.Rows == 0 ? 0 : first.ElementCount / first.Rows;
        var data = new T[checked((int)(totalRows * rowSize))];
        var offset = 0;
        foreach (var part in parts)
        {
            var span = part.Span<T>();
            span.CopyTo(data.AsSpan(offset));
            offset += span.Length;
        }

        var shape = first.Shape.ToArray();
        shape[0] = totalRows;
        return OrtValue.CreateTensorValueFromMemory(data, shape);
    }

    private static OrtValue Wrap<T>(Tensor tensor) where T : unmanaged =>
        OrtValue.CreateTensorValueFromMemory((T[])tensor.RawData, tensor.Shape.ToArray());

    private static Tensor[] Split<T>(OrtValue value, string name, ReadOnlySpan<long> rowCounts) where T : unmanaged
    {
        var shape = value.GetTensorTypeAndShape().Shape;
        var data = value.GetTensorDataAsSpan<T>();
        long totalRows = 0;
        foreach (var rows in rowCounts)
        {
            totalRows += rows;
        }

        if (shape.Length == 0 || shape[0] != totalRows)
        {
            throw new InvalidOperationException(
                $"output '{name}' has shape {Tensor.FormatShape(shape)}, which cannot be split into the batch's {totalRows} rows");
        }

        var rowSize = totalRows == 0 ? 0 : data.Length / totalRows;
        var pieces = new Tensor[rowCounts.Length];
        var offset = 0;
        for (var i = 0; i < rowCounts.Length; i++)
        {
            var length = (int)(rowCounts[i] * rowSize);
            var piece = data.Slice(offset, length).ToArray();
            offset += length;
            shape[0] = rowCounts[i];
            pieces[i] = Tensor.Create(name, piece, shape);
        }

        return pieces;
    }

    private static Tensor Copy<T>(OrtValue value, string name) where T : unmanaged =>
        Tensor.Create(name, value.GetTensorDataAsSpan<T>().ToArray(), value.GetTensorTypeAndShape().Shape);
}
